#!/usr/bin/env python3
"""Every Debian package sieve-desktop needs at run time is declared, twice.

Issue 14: "Add model…" crashed the packaged app because Qt's own FileDialog
imports Qt.labs.folderlistmodel, whose package was in neither .ci/install-deps
nor the .deb's Depends, and no test opened a real dialog on the stock
packages. This test derives what the app can load (qml_runtime_closure.py:
ui/qml's imports, followed through every module's qmldir and QML, plus the
Qt plugins below) and fails when
  - a module the UI can load is not installed on this machine at all,
  - its package is missing from installer/linux/runtime-depends.txt,
  - `.ci/install-deps --list` does not install it, or
  - the build's CPack configuration does not put it in the .deb's Depends.

Usage: runtime_depends_test.py SOURCE_DIR BUILD_DIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qml_runtime_closure  # noqa: E402

# Qt plugins the app loads by name, which no linker or QML import shows.
PLUGINS = {
    "sqldrivers/libqsqlite.so": "the history store's SQLite driver (QSQLITE)",
    "platforms/libqxcb.so": "the X11 window",
}
# Packages that come as shared-library dependencies (dpkg-shlibdeps adds them).
LINKED = {"libqt6qml6", "libqt6gui6", "libqt6core6", "libqt6quick6"}


def declared(path):
    with open(path, encoding="utf-8") as f:
        return {line.split("#")[0].strip() for line in f if line.split("#")[0].strip()}


def qt_plugin_dir():
    out = subprocess.run(["qtpaths6", "--query", "QT_INSTALL_PLUGINS"], capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "/usr/lib/x86_64-linux-gnu/qt6/plugins"


def package_of(path):
    out = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True)
    return out.stdout.split(":")[0].strip() if out.returncode == 0 else None


def needed_packages(source):
    """{package: why} for what the app loads at run time; failures for what is not installed."""
    needed, failures = {}, []
    qt_qml = qml_runtime_closure.qt_qml_dir()
    for module, path in sorted(qml_runtime_closure.closure(os.path.join(source, "ui", "qml"), qt_qml).items()):
        # A built-in module is there with the library the app links, whether or not a
        # package also puts its qmldir on disk (qml6-module-qtqml does, for qmllint).
        built_in = qml_runtime_closure.BUILT_IN.get(module)
        package = built_in or (package_of(os.path.join(path, "qmldir")) if path else None)
        if package is None:
            failures.append(f"QML module {module} can be loaded by the UI but is not installed here "
                            f"(find its package: apt-cache search qml6-module)")
        else:
            needed.setdefault(package, f"QML module {module}")
    plugins = qt_plugin_dir()
    for plugin, why in PLUGINS.items():
        package = package_of(os.path.join(plugins, plugin))
        if package is None:
            failures.append(f"Qt plugin {plugin} ({why}) is not installed here")
        else:
            needed.setdefault(package, f"Qt plugin {plugin} ({why})")
    return needed, failures


def deb_depends(build):
    config = os.path.join(build, "CPackConfig.cmake")
    with open(config, encoding="utf-8") as f:
        match = re.search(r'set\(CPACK_DEBIAN_PACKAGE_DEPENDS "([^"]*)"\)', f.read())
    if not match:
        return None
    return {p.strip().split(" ")[0] for p in match.group(1).split(",") if p.strip()}


def main():
    source, build = sys.argv[1], sys.argv[2]
    needed, failures = needed_packages(source)
    runtime = declared(os.path.join(source, "installer", "linux", "runtime-depends.txt"))
    installs = set(subprocess.run([os.path.join(source, ".ci", "install-deps"), "--list"],
                                  capture_output=True, text=True, check=True).stdout.split())
    depends = deb_depends(build)
    if depends is None:
        failures.append(f"{build}/CPackConfig.cmake sets no CPACK_DEBIAN_PACKAGE_DEPENDS")
        depends = set()
    for package, why in sorted(needed.items()):
        if package in LINKED:
            continue
        if package not in runtime:
            failures.append(f"{package} ({why}) is not in installer/linux/runtime-depends.txt")
        if package not in installs:
            failures.append(f"{package} ({why}) is not installed by .ci/install-deps")
        if package not in depends:
            failures.append(f"{package} ({why}) is not in the .deb's Depends")
    for package in sorted(runtime - installs):
        failures.append(f"{package} is in runtime-depends.txt but .ci/install-deps does not install it")
    for package in sorted(runtime - depends):
        failures.append(f"{package} is in runtime-depends.txt but not in the .deb's Depends")
    print(f"{len(needed)} run-time packages derived from ui/qml and the Qt plugins:")
    for package, why in sorted(needed.items()):
        print(f"  {package:40} {why}")
    for failure in failures:
        print("FAIL:", failure)
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
