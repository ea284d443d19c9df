import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import Qt.labs.settings

// The main window. `chat` (ChatController, C++) is the context property
// holding the models and actions; everything the user sets is persisted here.
ApplicationWindow {
    id: window
    width: 1100
    height: 720
    minimumWidth: 720
    minimumHeight: 480
    visible: true
    title: chat.modelLoaded ? qsTr("Sieve — %1").arg(chat.modelName) : qsTr("Sieve")
    color: theme.window

    Theme {
        id: theme
        dark: prefs.theme === "dark"
    }

    palette.window: theme.window
    palette.windowText: theme.text
    palette.base: theme.assistantBubble
    palette.text: theme.text
    palette.button: theme.panel
    palette.buttonText: theme.text
    palette.highlight: theme.accent
    palette.placeholderText: theme.mutedText
    palette.mid: theme.border
    palette.light: theme.panel
    palette.dark: theme.accent          // Basic style: highlighted buttons, pressed states
    palette.brightText: "#ffffff"       // ... and their text

    Settings {
        category: "window"
        property alias x: window.x
        property alias y: window.y
        property alias width: window.width
        property alias height: window.height
    }

    // Everything on the settings page, persisted.
    Settings {
        id: prefs
        objectName: "prefs"
        category: "chat"
        property string modelPath: ""
        property real dramBudgetGiB: 4
        property int threads: 0
        property int contextLength: 0
        property real temperature: 0.8
        property real topP: 0.95
        property int topK: 40
        property real minP: 0.05
        property int maxTokens: 512
        property string systemPrompt: ""
        property string theme: "light"
    }

    Binding { target: chat; property: "temperature"; value: prefs.temperature }
    Binding { target: chat; property: "topP"; value: prefs.topP }
    Binding { target: chat; property: "topK"; value: prefs.topK }
    Binding { target: chat; property: "minP"; value: prefs.minP }
    Binding { target: chat; property: "maxTokens"; value: prefs.maxTokens }
    Binding { target: chat; property: "systemPrompt"; value: prefs.systemPrompt }
    Binding { target: chat; property: "threads"; value: prefs.threads }
    Binding { target: chat; property: "contextLength"; value: prefs.contextLength }

    Component.onCompleted: {
        if (chat.modelPath === "" && prefs.modelPath !== "")
            chat.loadModel(prefs.modelPath)
    }

    Connections {
        target: chat
        function onModelChanged() {
            if (chat.modelLoaded)
                prefs.modelPath = chat.modelPath
        }
        function onErrorOccurred(message) {
            errorBanner.text = message
            errorBanner.visible = true
        }
    }

    FileDialog {
        id: modelDialog
        title: qsTr("Add a GGUF model")
        nameFilters: [qsTr("GGUF models (*.gguf)"), qsTr("All files (*)")]
        onAccepted: chat.loadModel(selectedFile)
    }

    function addModel() { modelDialog.open() }
    function openSettings() { settingsPage.open() }
    function closeSettings() { settingsPage.close() }

    Shortcut { sequence: StandardKey.New; onActivated: chat.newConversation() }
    Shortcut { sequence: "Ctrl+L"; onActivated: chatView.focusInput() }
    Shortcut { sequence: "Escape"; enabled: chat.generating; onActivated: chat.stop() }
    Shortcut { sequence: StandardKey.Find; onActivated: sidebar.focusSearch() }
    Shortcut { sequence: "Ctrl+,"; onActivated: window.openSettings() }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        // Errors stay until dismissed, in plain words.
        Rectangle {
            id: errorBanner
            property alias text: errorText.text
            visible: false
            Layout.fillWidth: true
            implicitHeight: errorRow.implicitHeight + 12
            color: theme.dark ? "#4a2330" : "#fbe4e2"
            RowLayout {
                id: errorRow
                anchors.fill: parent
                anchors.margins: 6
                Label {
                    id: errorText
                    Layout.fillWidth: true
                    color: theme.error
                    wrapMode: Text.Wrap
                    Accessible.role: Accessible.AlertMessage
                }
                Button {
                    text: qsTr("Dismiss")
                    Accessible.name: qsTr("Dismiss the error")
                    onClicked: errorBanner.visible = false
                }
            }
        }

        FirstRunView {
            id: firstRun
            visible: !chat.modelLoaded
            Layout.fillWidth: true
            Layout.fillHeight: true
            theme: theme
            onAddModelRequested: window.addModel()
        }

        RowLayout {
            visible: chat.modelLoaded
            Layout.fillWidth: true
            Layout.fillHeight: true
            spacing: 0

            ConversationSidebar {
                id: sidebar
                Layout.preferredWidth: 260
                Layout.fillHeight: true
                theme: theme
                onSettingsRequested: window.openSettings()
                onAddModelRequested: window.addModel()
            }
            ChatView {
                id: chatView
                Layout.fillWidth: true
                Layout.fillHeight: true
                theme: theme
            }
        }
    }

    SettingsPage {
        id: settingsPage
        theme: theme
        prefs: prefs
        anchors.centerIn: parent
        width: Math.min(window.width - 80, 560)
        height: Math.min(window.height - 60, 680)
    }
}
