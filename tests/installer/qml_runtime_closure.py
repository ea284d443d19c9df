#!/usr/bin/env python3
"""The QML modules sieve-desktop can load at run time, and the Debian packages
that hold them.

Starts from the imports of ui/qml, then
follows each module's qmldir (`import`, `default import`, `depends`; not
`optional import`: those are the other styles, and the app runs the Basic
style) and the imports of the .qml files the module ships on disk. One edge
no file declares is added by hand: QtQuick.Dialogs' plugin creates Qt's own
dialog implementation (QtQuick.Dialogs.quickimpl) when the platform has no
native dialog, which is what loads Qt.labs.folderlistmodel. Missing it
crashed "Add model…" in the packaged app (issue 14).

Usage: qml_runtime_closure.py QML_DIR [--qt-qml DIR]
Prints one line per module: "<module> <package>" ("<module> MISSING" when no
installed module directory has it).
"""
import argparse
import os
import re
import subprocess
import sys

# Run-time links between modules that no qmldir or import line shows.
RUNTIME_EDGES = {
    # The dialogs' plugin loads Qt's own implementation when there is no native dialog.
    "QtQuick.Dialogs": ["QtQuick.Dialogs.quickimpl"],
    # `import QtQml` is built into libQt6Qml (no qmldir on disk); it imports these.
    "QtQml": ["QtQml.Models", "QtQml.WorkerScript"],
}
# Modules compiled into a Qt library the executable links (dpkg-shlibdeps sees those).
BUILT_IN = {"QtQml": "libqt6qml6"}
# The app's own modules (Sieve.Ui, Sieve.App) are compiled into sieve-desktop.
OWN_PREFIX = "Sieve."

IMPORT_LINE = re.compile(r'^\s*import\s+([A-Za-z_][\w.]*)', re.MULTILINE)


def qt_qml_dir():
    out = subprocess.run(["qtpaths6", "--query", "QT_INSTALL_QML"], capture_output=True, text=True)
    if out.returncode == 0 and out.stdout.strip():
        return out.stdout.strip()
    return "/usr/lib/x86_64-linux-gnu/qt6/qml"


def qml_imports(folder):
    """The modules the .qml files directly in `folder` import."""
    found = set()
    for qml in sorted(os.listdir(folder)):
        if qml.endswith(".qml"):
            with open(os.path.join(folder, qml), encoding="utf-8", errors="replace") as f:
                found.update(IMPORT_LINE.findall(f.read()))
    return found


def module_dir(qt_qml, name):
    path = os.path.join(qt_qml, *name.split("."))
    return path if os.path.isfile(os.path.join(path, "qmldir")) else None


def module_edges(path, name):
    """Modules that module `name` (installed at `path`) needs in turn."""
    needed = set(RUNTIME_EDGES.get(name, []))
    with open(os.path.join(path, "qmldir"), encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "depends"):
                needed.add(words[1])
            elif len(words) >= 3 and words[0] == "default" and words[1] == "import":
                needed.add(words[2])
    # Imports of the QML the module ships: not in style variants (+Material/…),
    # Qt Design Studio's files (designer/), or sub-folders that are modules of
    # their own (they are reached by name when something imports them).
    for root, dirs, _ in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith("+") and d != "designer"
                   and not os.path.isfile(os.path.join(root, d, "qmldir"))]
        needed.update(qml_imports(root))
    needed.discard(name)
    return needed


def owning_package(path):
    out = subprocess.run(["dpkg-query", "-S", os.path.join(path, "qmldir")], capture_output=True, text=True)
    if out.returncode != 0:
        return "UNPACKAGED"
    return out.stdout.split(":")[0].strip()


def closure(qml_dir, qt_qml):
    """{module: its folder, or None when not installed} for all the app can load."""
    todo = sorted(qml_imports(qml_dir))
    seen = {}
    while todo:
        name = todo.pop()
        if name in seen or name.startswith(OWN_PREFIX):
            continue
        path = module_dir(qt_qml, name)
        seen[name] = path
        if path:
            todo.extend(sorted(module_edges(path, name) - seen.keys()))
        elif name in RUNTIME_EDGES:
            todo.extend(RUNTIME_EDGES[name])
    return seen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("qml_dir")
    parser.add_argument("--qt-qml", default=None)
    args = parser.parse_args()
    qt_qml = args.qt_qml or qt_qml_dir()
    for name, path in sorted(closure(args.qml_dir, qt_qml).items()):
        print(name, owning_package(path) if path else BUILT_IN.get(name, "MISSING"))


if __name__ == "__main__":
    sys.exit(main())
