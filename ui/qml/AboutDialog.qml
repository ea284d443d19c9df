import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// About Sieve (F1, or "About" in the header): the version (CMake's project
// version), the Qt version it runs on, where the log file is, and the
// license. `info` is `App.info` (app_window.cpp):
// { version, qtVersion, logFile, logFolderUrl, license }.
Dialog {
    id: root
    property Theme theme
    property var info: ({})
    objectName: "aboutDialog"
    title: qsTr("About Sieve")
    modal: true
    closePolicy: Popup.CloseOnEscape | Popup.CloseOnPressOutside
    width: Math.min(parent ? parent.width - 80 : 520, 520)
    palette.window: theme.window
    palette.windowText: theme.text
    palette.button: theme.panel
    palette.buttonText: theme.text
    palette.highlight: theme.accent
    palette.dark: theme.accent
    palette.brightText: theme.textOnAccent
    palette.base: theme.assistantBubble
    palette.text: theme.text
    palette.mid: theme.controlBorder

    readonly property string logFile: info.logFile || ""

    background: Rectangle {
        color: root.theme.window
        border.color: root.theme.controlBorder
        radius: 4
    }

    header: Label {
        text: root.title
        font.bold: true
        font.pixelSize: 17
        color: root.theme.text
        padding: 14
    }

    onOpened: closeButton.forceActiveFocus(Qt.TabFocusReason)

    ColumnLayout {
        anchors.fill: parent
        spacing: 10
        Label {
            objectName: "aboutVersion"
            Layout.fillWidth: true
            color: root.theme.text
            font.pixelSize: 15
            text: qsTr("Sieve %1").arg(root.info.version || "")
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: root.theme.mutedText
            text: qsTr("Offline chat with language models larger than your RAM.")
        }
        Label {
            objectName: "aboutQtVersion"
            Layout.fillWidth: true
            color: root.theme.text
            text: qsTr("Qt %1").arg(root.info.qtVersion || "")
        }
        Label {
            Layout.fillWidth: true
            color: root.theme.mutedText
            text: qsTr("Log file")
        }
        TextField {  // read-only but selectable, so the path can be copied into a bug report
            objectName: "aboutLogFile"
            Layout.fillWidth: true
            readOnly: true
            selectByMouse: true
            color: root.theme.text
            text: root.logFile !== "" ? root.logFile : qsTr("Not written to a file in this session")
            Accessible.name: qsTr("Log file: %1").arg(text)
        }
        Label {
            objectName: "aboutLicense"
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: root.theme.text
            text: root.info.license || ""
        }
    }

    footer: DialogButtonBox {
        background: null
        Button {
            objectName: "aboutOpenLogFolder"
            text: qsTr("Open the log folder")
            enabled: root.logFile !== ""
            Accessible.name: text
            DialogButtonBox.buttonRole: Dialog.ActionRole  // QPlatformDialogHelper's roles; qmllint 6.4 knows them on Dialog
            onClicked: Qt.openUrlExternally(root.info.logFolderUrl)
            FocusRing { theme: root.theme }
        }
        Button {
            id: closeButton
            objectName: "aboutClose"
            text: qsTr("Close")
            highlighted: true
            Accessible.name: qsTr("Close About")
            DialogButtonBox.buttonRole: Dialog.RejectRole
            FocusRing { theme: root.theme }
        }
    }
}
