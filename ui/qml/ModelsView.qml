import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import Sieve.App

// The models page: every added model with its size, type, minimum DRAM and
// status; Add model… (a GGUF is packed for flash mode, with progress and
// Cancel), Download… (DownloadsPanel.qml), Use this model, Remove. Needs only the `models` context property
// (ModelsController); `theme` is optional (the light theme otherwise).
Pane {
    id: root
    property Theme theme: fallbackTheme
    // After "Use this model": the chat can be shown again.
    signal modelActivated(string path)

    Theme { id: fallbackTheme }
    padding: 0
    background: Rectangle { color: root.theme.window }
    // The controls follow the theme here too (as in Main.qml's window), also when shown on their own.
    palette.window: theme.window
    palette.windowText: theme.text
    palette.base: theme.assistantBubble
    palette.text: theme.text
    palette.button: theme.dark ? theme.highlight : theme.panel  // dark cards are panel-coloured
    palette.buttonText: theme.text
    palette.highlight: theme.accent
    palette.placeholderText: theme.mutedText
    palette.mid: theme.border
    palette.midlight: theme.border
    palette.light: theme.panel
    palette.dark: theme.accent
    palette.brightText: "#ffffff"

    function addModel() { modelDialog.open() }
    // Remove asks first: it says what is deleted and what adding it again costs.
    function askRemove(row, name) {
        removeDialog.row = row
        removeDialog.name = name
        removeDialog.deletesPack = App.models.removeDeletesPack(row)
        removeDialog.question = App.models.removalQuestion(row)
        removeDialog.open()
    }

    Dialog {
        id: removeDialog
        objectName: "removeDialog"
        property int row: -1
        property string name: ""
        property bool deletesPack: false
        property string question: ""
        title: qsTr("Remove %1?").arg(name)
        modal: true
        parent: Overlay.overlay
        anchors.centerIn: parent
        width: Math.min(520, parent ? parent.width - 40 : 520)
        contentItem: Label {
            objectName: "removeQuestion"
            text: removeDialog.question
            wrapMode: Text.Wrap
            color: root.theme.text
        }
        footer: DialogButtonBox {
            alignment: Qt.AlignRight
            Button {
                objectName: "removeDeleteButton"
                text: removeDialog.deletesPack ? qsTr("Delete the pack") : qsTr("Remove from list")
                DialogButtonBox.buttonRole: Dialog.AcceptRole  // QPlatformDialogHelper's roles; qmllint 6.4 knows them on Dialog
                Accessible.name: removeDialog.deletesPack ? qsTr("Remove %1 and delete its pack").arg(removeDialog.name)
                                                          : qsTr("Remove %1 from the list").arg(removeDialog.name)
            }
            Button {
                objectName: "removeKeepButton"
                visible: removeDialog.deletesPack
                text: qsTr("Remove from list, keep files")
                DialogButtonBox.buttonRole: Dialog.ApplyRole
                Accessible.name: qsTr("Remove %1 from the list and keep its pack").arg(removeDialog.name)
                onClicked: {
                    removeDialog.close()
                    App.models.removeModel(removeDialog.row, true)
                }
            }
            Button {
                text: qsTr("Cancel")
                DialogButtonBox.buttonRole: Dialog.RejectRole
            }
        }
        onAccepted: App.models.removeModel(row, false)
    }

    Component.onCompleted: App.models.refresh()
    onVisibleChanged: if (visible) App.models.refresh()

    // Downloads (DownloadsPanel.qml): they go on when this closes.
    Popup {
        id: downloadsDialog
        objectName: "downloadsDialog"
        parent: Overlay.overlay
        anchors.centerIn: parent
        width: Math.min(760, parent ? parent.width - 40 : 760)
        height: Math.min(640, parent ? parent.height - 40 : 640)
        modal: true
        padding: 0
        contentItem: Loader {
            active: App.downloads !== null && downloadsDialog.visible
            sourceComponent: DownloadsPanel {
                theme: root.theme  // qmllint disable unqualified
                onCloseRequested: downloadsDialog.close()  // qmllint disable unqualified
            }
        }
    }

    FileDialog {
        id: modelDialog
        title: qsTr("Add a GGUF model")
        nameFilters: [qsTr("GGUF models (*.gguf *.sieve)"), qsTr("All files (*)")]
        onAccepted: App.models.addModel(selectedFile)
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 20
        spacing: 12

        RowLayout {
            Layout.fillWidth: true
            spacing: 12
            Label {
                Layout.fillWidth: true
                text: qsTr("Models")
                font.pixelSize: 24
                font.bold: true
                color: root.theme.text
            }
            Button {
                objectName: "downloadModelButton"
                visible: App.downloads !== null  // the app has it; a test showing this page alone may not
                text: App.downloads && App.downloads.runningCount > 0
                      ? qsTr("Downloads (%1 %)").arg(Math.floor(App.downloads.overallProgress * 100)) : qsTr("Download…")
                Accessible.name: qsTr("Download a model")
                onClicked: downloadsDialog.open()
            }
            Button {
                objectName: "addModelButton"
                text: qsTr("Add model…")
                highlighted: true
                enabled: !App.models.importing
                opacity: enabled ? 1 : 0.45  // the theme's palette has no disabled colours
                Accessible.name: qsTr("Add a GGUF model")
                onClicked: root.addModel()
            }
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: root.theme.mutedText
            text: qsTr("Adding a GGUF model packs it once for flash mode (a copy in Sieve's data " +
                       "folder; the original stays where it is). Minimum DRAM is the least memory " +
                       "the model runs in, for the engine settings in Settings: the rest of its weights stream from the SSD.")
        }

        ImportProgressPanel {
            Layout.fillWidth: true
            theme: root.theme
        }
        // The outcome of the last action: "Added …", "… was cancelled", or why it failed.
        Label {
            objectName: "modelsMessage"
            Layout.fillWidth: true
            visible: App.models.message !== "" && !App.models.importing
            text: App.models.message
            wrapMode: Text.Wrap
            color: App.models.messageIsError ? root.theme.error : root.theme.text
            Accessible.role: App.models.messageIsError ? Accessible.AlertMessage : Accessible.StaticText
        }

        Item {
            Layout.fillWidth: true
            Layout.fillHeight: true

            ListView {
                id: list
                objectName: "modelList"
                anchors.fill: parent
                clip: true
                spacing: 8
                model: App.models.list
                Accessible.name: qsTr("Added models")
                ScrollBar.vertical: ScrollBar {}

                delegate: Rectangle {
                    id: card
                    readonly property var details: [typeText, sizeText, architecture, parametersText]  // shown when not empty
                    required property int index
                    required property string name
                    required property string typeText
                    required property string sizeText
                    required property string architecture
                    required property string parametersText
                    required property string minimumDramText
                    required property string fullDramText
                    required property string status
                    required property string path
                    required property bool available
                    required property bool active
                    required property var planContext
                    required property string planText

                    width: ListView.view.width
                    implicitHeight: cardRow.implicitHeight + 24
                    radius: 6
                    color: root.theme.assistantBubble  // qmllint disable unqualified
                    border.color: active ? root.theme.accent : root.theme.border  // qmllint disable unqualified
                    border.width: active ? 2 : 1
                    Accessible.role: Accessible.ListItem
                    Accessible.name: qsTr("%1, %2, %3, minimum DRAM %4, %5")
                                     .arg(name).arg(typeText).arg(sizeText).arg(minimumDramText).arg(status)

                    RowLayout {
                        id: cardRow
                        anchors.fill: parent
                        anchors.margins: 12
                        spacing: 12

                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 3
                            RowLayout {
                                Layout.fillWidth: true
                                spacing: 8
                                Label {
                                    Layout.fillWidth: true
                                    text: card.name
                                    font.bold: true
                                    font.pixelSize: 15
                                    color: root.theme.text  // qmllint disable unqualified
                                    elide: Text.ElideRight
                                }
                                Label {
                                    text: card.active ? qsTr("In use") : card.available ? qsTr("Ready") : qsTr("Missing")
                                    color: card.available ? (card.active ? root.theme.accent : root.theme.mutedText)  // qmllint disable unqualified
                                                          : root.theme.error
                                    font.bold: card.active || !card.available
                                }
                            }
                            Label {
                                Layout.fillWidth: true
                                text: card.details.filter(function (s) { return s.length > 0 }).join("  ·  ")
                                color: root.theme.text  // qmllint disable unqualified
                                elide: Text.ElideRight
                            }
                            Label {
                                Layout.fillWidth: true
                                objectName: "dramText"
                                text: qsTr("Minimum DRAM %1  ·  all in DRAM %2  (%3)")
                                      .arg(card.minimumDramText).arg(card.fullDramText).arg(card.planText)
                                color: root.theme.mutedText  // qmllint disable unqualified
                                wrapMode: Text.Wrap
                            }
                            Label {
                                Layout.fillWidth: true
                                text: card.available ? card.path : qsTr("Missing: %1 was moved or deleted. Remove it, then add it again.").arg(card.path)
                                color: card.available ? root.theme.mutedText : root.theme.error  // qmllint disable unqualified
                                font.pixelSize: 11
                                elide: card.available ? Text.ElideMiddle : Text.ElideNone
                                wrapMode: card.available ? Text.NoWrap : Text.Wrap
                            }
                        }
                        ColumnLayout {
                            Layout.alignment: Qt.AlignVCenter
                            Layout.preferredWidth: 160
                            Layout.fillWidth: false
                            spacing: 6
                            Button {
                                Layout.fillWidth: true
                                text: qsTr("Use this model")
                                enabled: card.available && !card.active
                                opacity: enabled ? 1 : 0.45
                                Accessible.name: qsTr("Use %1").arg(card.name)
                                onClicked: {
                                    if (App.models.useModel(card.index))
                                        root.modelActivated(card.path)  // qmllint disable unqualified
                                }
                            }
                            Button {
                                Layout.fillWidth: true
                                text: qsTr("Remove")
                                enabled: !card.active
                                opacity: enabled ? 1 : 0.45
                                Accessible.name: qsTr("Remove %1").arg(card.name)
                                onClicked: root.askRemove(card.index, card.name)  // qmllint disable unqualified
                            }
                        }
                    }
                }
            }
            Label {
                anchors.centerIn: parent
                width: parent.width - 40
                visible: list.count === 0 && !App.models.importing
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                color: root.theme.mutedText
                text: qsTr("No models yet. Choose “Add model…” and pick a .gguf file.")
            }
        }
    }
}
