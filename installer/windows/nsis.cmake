# The NSIS installer, Sieve-<version>-win64.exe (CPack NSIS; needs NSIS 3 on
# the PATH: makensis). It installs into "Program Files\Sieve" (bin\ holds
# sieve-desktop.exe, sieve.exe, Qt's DLLs and QML modules), adds a
# Start-menu shortcut "Sieve" (and optionally one on the desktop), an
# uninstaller registered in "Apps & features", and offers to put bin\ on the
# PATH for the `sieve` command line.
#
# User data is not in the install folder: Qt's AppDataLocation is
# %APPDATA%\Sieve\Sieve (history.sqlite, models.json, packed models,
# disk-profile.json) and QSettings are under HKCU\Software\Sieve. The
# uninstaller keeps them unless the user answers Yes to "Also delete my
# conversations and models?" (a silent uninstall, /S, keeps them).
set(CPACK_NSIS_DISPLAY_NAME "Sieve")
set(CPACK_NSIS_PACKAGE_NAME "Sieve ${PROJECT_VERSION}")
set(CPACK_PACKAGE_FILE_NAME "Sieve-${PROJECT_VERSION}-win64")
set(CPACK_NSIS_INSTALL_ROOT "$PROGRAMFILES64")
set(CPACK_NSIS_EXECUTABLES_DIRECTORY "bin")
set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\sieve-desktop.exe")  # CPACK_VERBATIM_VARIABLES: one backslash
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
set(CPACK_NSIS_MODIFY_PATH ON)
set(CPACK_NSIS_MUI_FINISHPAGE_RUN "sieve-desktop.exe")
set(CPACK_CREATE_DESKTOP_LINKS "sieve-desktop")
set(CPACK_NSIS_URL_INFO_ABOUT "https://sieve.app")
set(CPACK_NSIS_CONTACT "${SIEVE_PACKAGE_CONTACT}")
set(CPACK_NSIS_MANIFEST_DPI_AWARE ON)
file(TO_NATIVE_PATH "${SIEVE_ICON_DIR}/sieve.ico" sieve_ico)
set(CPACK_NSIS_MUI_ICON "${sieve_ico}")
set(CPACK_NSIS_MUI_UNIICON "${sieve_ico}")

# windeployqt copies vc_redist.x64.exe (MSVC builds) into bin\: install the
# runtime silently if it is there, then drop the 25 MB installer.
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS [=[
  IfFileExists "$INSTDIR\bin\vc_redist.x64.exe" 0 sieve_no_redist
    ExecWait '"$INSTDIR\bin\vc_redist.x64.exe" /install /quiet /norestart'
    Delete "$INSTDIR\bin\vc_redist.x64.exe"
  sieve_no_redist:
]=])

# The user's data lives in the per-user profile (SetShellVarContext current)
# whatever context un.onInit chose (all users for an administrator); the
# context is put back afterwards for the rest of the uninstall section (the
# Start-menu folder), found by comparing $SMPROGRAMS.
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS [=[
  MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "Also delete my conversations and models?$\r$\n$\r$\nThey are kept in your profile ($APPDATA\Sieve) unless you choose Yes." /SD IDNO IDNO sieve_keep_user_data
    StrCpy $R9 "$SMPROGRAMS"
    SetShellVarContext current
    RMDir /r "$APPDATA\Sieve"
    RMDir /r "$LOCALAPPDATA\Sieve"
    DeleteRegKey HKCU "Software\Sieve"
    SetShellVarContext all
    StrCmp "$SMPROGRAMS" "$R9" sieve_keep_user_data 0
    SetShellVarContext current
  sieve_keep_user_data:
]=])
