import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import QtCore
import Sieve.App

// Shown until there is a model: what Sieve needs, what adding a model does
// (it is packed once for flash mode) and how the DRAM budget works. With the
// `App.models` (ModelsController) "Add model…" runs the import
// here, with its progress and Cancel, and the first model added is loaded.
// Without it, addModelRequested() lets the window open a file instead.
Pane {
    id: root
    property Theme theme: fallbackTheme
    signal addModelRequested()

    Theme { id: fallbackTheme }
    padding: 0
    background: Rectangle { color: root.theme.window }
    // The controls follow the theme here too (as in Main.qml's window), also when shown on their own.
    palette.window: theme.window
    palette.windowText: theme.text
    palette.base: theme.assistantBubble
    palette.text: theme.text
    palette.button: theme.panel
    palette.buttonText: theme.text
    palette.highlight: theme.accent
    palette.placeholderText: theme.mutedText
    palette.mid: theme.controlBorder
    palette.midlight: theme.controlBorder
    palette.light: theme.panel
    palette.dark: theme.accent
    palette.brightText: theme.textOnAccent

    readonly property bool hasModels: App.models !== null
    readonly property bool busy: App.chat.loading || (hasModels && App.models.importing)

    function addModel() {
        if (hasModels)
            modelDialog.open()
        else
            root.addModelRequested()
    }

    FileDialog {
        id: modelDialog
        title: qsTr("Add a GGUF model")
        nameFilters: [qsTr("GGUF models (*.gguf *.sieve)"), qsTr("All files (*)")]
        currentFolder: StandardPaths.writableLocation(StandardPaths.HomeLocation)  // not the app's working folder
        onAccepted: App.models.addModel(selectedFile)
    }

    component Step: RowLayout {
        id: step
        property string number
        property string heading
        property string body
        Layout.fillWidth: true
        spacing: 12
        Label {
            Layout.alignment: Qt.AlignTop
            Layout.preferredWidth: 28
            Layout.preferredHeight: 28
            text: step.number
            font.bold: true
            color: root.theme.textOnAccent  // qmllint disable unqualified
            horizontalAlignment: Text.AlignHCenter
            verticalAlignment: Text.AlignVCenter
            background: Rectangle { radius: 14; color: root.theme.accent }  // qmllint disable unqualified
        }
        ColumnLayout {
            Layout.fillWidth: true
            spacing: 2
            Label {
                Layout.fillWidth: true
                text: step.heading
                font.bold: true
                font.pixelSize: 15
                color: root.theme.text  // qmllint disable unqualified
                wrapMode: Text.Wrap
            }
            Label {
                Layout.fillWidth: true
                text: step.body
                color: root.theme.mutedText  // qmllint disable unqualified
                wrapMode: Text.Wrap
                textFormat: Text.StyledText
            }
        }
    }

    // Centred while it fits; from the top, scrolling, when it does not.
    Flickable {
        id: scroller
        anchors.fill: parent
        contentWidth: width
        contentHeight: Math.max(height, content.implicitHeight + 32)
        boundsBehavior: Flickable.StopAtBounds
        clip: true
        ScrollBar.vertical: ScrollBar {}

        Item {
            width: scroller.width
            height: scroller.contentHeight

            ColumnLayout {
                id: content
                anchors.centerIn: parent
                width: Math.min(scroller.width - 48, 620)
                spacing: 16

                Label {
                    Layout.fillWidth: true
                    text: qsTr("Welcome to Sieve")
                    font.pixelSize: 30
                    font.bold: true
                    color: root.theme.text
                    horizontalAlignment: Text.AlignHCenter
                }
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: root.theme.text
                    font.pixelSize: 15
                    horizontalAlignment: Text.AlignHCenter
                    text: qsTr("Sieve runs language models on this computer, offline — even models larger " +
                               "than its memory, by streaming weights from the SSD.")
                }
                Step {
                    number: "1"
                    heading: qsTr("Add a model file")
                    body: qsTr("Choose a model in <b>GGUF</b> format, for example one downloaded from Hugging " +
                               "Face (Llama, TinyLlama, Qwen2 and other llama-family models; F16, Q8_0, Q4_K_M…).")
                }
                Step {
                    number: "2"
                    heading: qsTr("Sieve packs it for flash mode")
                    body: qsTr("Once, when you add it: a copy with the weights rearranged so they can be read " +
                               "from the SSD in large pieces. It needs about as much free disk space as the model " +
                               "and takes about as long as copying it. Your original file stays where it is.")
                }
                Step {
                    number: "3"
                    heading: qsTr("Choose how much memory it may use")
                    body: qsTr("The <b>DRAM budget</b> (in Settings) is the memory Sieve may use for the model. " +
                               "What fits stays in memory; the rest is read from the SSD for every word. Each " +
                               "model has a minimum; a larger budget means fewer reads and faster replies.")
                }
                Button {
                    objectName: "firstRunAddModel"
                    Layout.alignment: Qt.AlignHCenter
                    Layout.topMargin: 4
                    text: App.chat.loading ? qsTr("Loading…") : qsTr("Add model…")
                    enabled: !root.busy
                    opacity: enabled ? 1 : 0.45  // the theme's palette has no disabled colours
                    highlighted: true
                    font.pixelSize: 15
                    Accessible.name: qsTr("Add a GGUF model")
                    onClicked: root.addModel()
                    FocusRing { theme: root.theme }
                }
                Loader {
                    Layout.fillWidth: true
                    active: root.hasModels
                    visible: active && App.models.importing
                    sourceComponent: ImportProgressPanel { theme: root.theme }  // qmllint disable unqualified
                }
                Label {
                    readonly property bool showsModels: root.hasModels && App.models.message !== "" && !App.chat.loading
                    visible: !(root.hasModels && App.models.importing)  // the progress panel says it all
                    Layout.fillWidth: true
                    horizontalAlignment: Text.AlignHCenter
                    wrapMode: Text.Wrap
                    color: showsModels && App.models.messageIsError ? root.theme.error : root.theme.mutedText
                    text: showsModels ? App.models.message : App.chat.statusText
                    Accessible.name: qsTr("Status: %1").arg(text)
                }
            }
        }
    }
}
