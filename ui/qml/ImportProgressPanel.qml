import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// The model being added: what happens now (checking, packing for flash mode,
// measuring), how far, how fast, and Cancel. Visible only during an import.
// Needs `App.models` (ModelsController).
Rectangle {
    id: root
    property Theme theme
    visible: App.models.importing
    implicitHeight: column.implicitHeight + 24
    radius: 6
    color: theme.assistantBubble
    border.color: theme.border
    Accessible.role: Accessible.ProgressBar
    Accessible.name: qsTr("Adding %1: %2").arg(App.models.importName).arg(App.models.importDetail)

    ColumnLayout {
        id: column
        anchors.fill: parent
        anchors.margins: 12
        spacing: 6

        RowLayout {
            Layout.fillWidth: true
            spacing: 10
            Label {
                Layout.fillWidth: true
                text: qsTr("Adding %1").arg(App.models.importName)
                font.bold: true
                color: root.theme.text
                elide: Text.ElideMiddle
            }
            Button {
                objectName: "cancelImportButton"
                text: App.models.importCancelling ? qsTr("Cancelling…") : qsTr("Cancel")
                enabled: !App.models.importCancelling
                opacity: enabled ? 1 : 0.45
                Accessible.name: qsTr("Cancel adding the model")
                onClicked: App.models.cancelImport()
            }
        }
        ProgressBar {
            Layout.fillWidth: true
            from: 0
            to: 1
            value: App.models.importProgress
            indeterminate: App.models.importProgress <= 0
            Accessible.name: qsTr("Import progress")
        }
        Label {
            Layout.fillWidth: true
            text: App.models.importDetail
            color: root.theme.mutedText
            wrapMode: Text.Wrap
        }
    }
}
