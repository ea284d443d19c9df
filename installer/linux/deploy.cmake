# Linux desktop integration: the desktop entry and the hicolor icons, under
# the install prefix (/usr in the .deb). Qt, QCoro and the QML modules come
# from the distribution's packages (installer/linux/deb.cmake), so nothing
# is deployed beside the executables. The QML itself is compiled into
# sieve-desktop (qrc:/Sieve/Ui, ui/CMakeLists.txt).
install(FILES ${SIEVE_INSTALLER_DIR}/linux/sieve.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
foreach(size 16 22 24 32 48 64 128 256 512)
  install(FILES ${SIEVE_ICON_DIR}/hicolor/${size}x${size}/apps/sieve.png
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps)
endforeach()
install(FILES ${SIEVE_ICON_DIR}/sieve.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
