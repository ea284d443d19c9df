import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import QtCore
import Qt.labs.settings
import Sieve.App

// The main window: a navigation bar (Chat / Models / Settings), the pages, and
// the live status bar. C++ through the singleton App (module Sieve.App, app_objects.h):
// App.chat (ChatController), App.settings (AppSettings, persisted), App.planner
// (MemoryPlanner), App.info (About) and App.models (null when not given).
ApplicationWindow {
    id: window
    width: 1100
    height: 720
    minimumWidth: 760
    minimumHeight: 500
    visible: true
    title: App.chat.modelLoaded ? qsTr("Sieve — %1").arg(App.chat.modelName) : qsTr("Sieve")
    color: appTheme.window

    Theme {
        id: appTheme
        objectName: "appTheme"  // app_window.cpp keeps the link colour at its accent
        dark: App.settings.dark
    }

    palette.window: appTheme.window
    palette.windowText: appTheme.text
    palette.base: appTheme.assistantBubble
    palette.text: appTheme.text
    palette.button: appTheme.panel
    palette.buttonText: appTheme.text
    palette.highlight: appTheme.accent
    palette.placeholderText: appTheme.mutedText
    palette.mid: appTheme.controlBorder       // text fields', check boxes', sliders' edges (3:1)
    palette.midlight: appTheme.controlBorder  // slider and switch tracks
    palette.light: appTheme.panel
    palette.dark: appTheme.accent          // Basic style: highlighted buttons, pressed states
    palette.brightText: appTheme.textOnAccent  // ... and their text

    // The window remembers its place and size.
    Settings {
        category: "window"
        property alias x: window.x
        property alias y: window.y
        property alias width: window.width
        property alias height: window.height
    }

    // "chat", "models" or "settings"
    property string page: "chat"
    readonly property var pages: ["chat", "models", "settings"]  // the StackLayout's order
    readonly property bool hasModelsPage: App.models !== null
    readonly property var modelsPage: modelsLoader.item  // the ModelsView once loaded (a QObject to qmllint)

    Component.onCompleted: {
        if (App.chat.modelPath === "" && App.settings.lastModel !== "")
            App.chat.loadModel(App.settings.lastModel)
    }

    Connections {
        target: App.chat
        function onErrorOccurred(message) {
            errorBanner.text = message
            errorBanner.visible = true
        }
        function onContextOverflow(droppedMessages, context) {
            overflowDialog.droppedMessages = droppedMessages
            overflowDialog.context = context
            overflowDialog.open()
        }
        function onInputRestored(text) { chatView.setInput(text) }
        function onModelChanged() { if (App.chat.modelLoaded) errorBanner.visible = false }
    }

    // Without the models page: a plain file dialog loads a GGUF directly.
    FileDialog {
        id: modelDialog
        title: qsTr("Open a GGUF model")
        nameFilters: [qsTr("GGUF models (*.gguf *.sieve)"), qsTr("All files (*)")]
        currentFolder: StandardPaths.writableLocation(StandardPaths.HomeLocation)  // not the app's working folder
        onAccepted: App.chat.loadModel(selectedFile)
    }

    function addModel() {
        if (hasModelsPage) {
            page = "models"
            window.modelsPage.addModel()
        } else {
            modelDialog.open()
        }
    }
    function showPage(name) { page = name }
    function openSettings() { page = "settings" }
    // The chat header's "Edit presets…": the settings page's editor, on the conversation's preset.
    function editPresets() {
        App.presets.selectedId = App.chat.currentPreset
        page = "settings"
        settingsPage.scrollToPresets()
    }
    function closeSettings() { page = "chat" }

    Shortcut { sequence: "Ctrl+N"; onActivated: { window.page = "chat"; chatView.newChat() } }
    Shortcut { sequence: "Ctrl+L"; onActivated: { window.page = "chat"; chatView.focusInput() } }
    Shortcut { sequence: "Escape"; enabled: App.chat.generating; onActivated: App.chat.stop() }
    Shortcut { sequence: "Ctrl+F"; onActivated: { window.page = "chat"; sidebar.focusSearch() } }
    Shortcut { sequence: "Ctrl+R"; enabled: !App.chat.generating && App.chat.modelLoaded; onActivated: App.chat.regenerate() }
    Shortcut { sequence: "Ctrl+,"; onActivated: window.page = "settings" }
    Shortcut { sequence: "Ctrl+1"; onActivated: window.page = "chat" }
    Shortcut { sequence: "Ctrl+2"; onActivated: window.page = "models" }
    Shortcut { sequence: "Ctrl+3"; onActivated: window.page = "settings" }
    // "Ctrl+Q" rather than StandardKey.Quit, which has no key on Windows (Cmd+Q on macOS either way).
    Shortcut { sequence: "Ctrl+Q"; context: Qt.ApplicationShortcut; onActivated: Qt.quit() }
    Shortcut { sequence: "F1"; onActivated: aboutDialog.open() }

    header: Rectangle {
        implicitHeight: navRow.implicitHeight + 12
        color: appTheme.panel
        Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: appTheme.border }
        RowLayout {
            id: navRow
            anchors.fill: parent
            anchors.leftMargin: 10
            anchors.rightMargin: 12
            spacing: 4
            Repeater {
                model: [
                    { name: "chat", label: qsTr("Chat"), keys: "Ctrl+1" },
                    { name: "models", label: qsTr("Models"), keys: "Ctrl+2" },
                    { name: "settings", label: qsTr("Settings"), keys: "Ctrl+3" }
                ]
                delegate: Button {
                    required property var modelData
                    objectName: "nav-" + modelData.name
                    text: modelData.label
                    flat: window.page !== modelData.name  // qmllint disable unqualified
                    highlighted: window.page === modelData.name  // qmllint disable unqualified
                    Accessible.name: qsTr("Show %1 (%2)").arg(modelData.label).arg(modelData.keys)
                    onClicked: window.page = modelData.name  // qmllint disable unqualified
                    FocusRing { theme: appTheme }  // qmllint disable unqualified
                }
            }
            Item { Layout.fillWidth: true }
            Label {
                Layout.maximumWidth: window.width * 0.45
                elide: Text.ElideRight
                color: appTheme.mutedText
                text: App.chat.loading ? qsTr("Loading…")
                                   : App.chat.modelLoaded ? qsTr("%1 · %2 mode · %3-token context")
                                                        .arg(App.chat.modelName).arg(App.chat.loadedMode).arg(App.chat.contextSize)
                                                      : qsTr("No model loaded")
            }
            ToolButton {
                objectName: "aboutButton"
                text: "⋯"
                font.pixelSize: 16
                Accessible.name: qsTr("About Sieve (F1)")
                ToolTip.visible: hovered
                ToolTip.text: qsTr("About Sieve (F1)")
                ToolTip.delay: 500
                onClicked: aboutDialog.open()
                FocusRing { theme: appTheme }
            }
        }
    }

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
            color: appTheme.errorBackground
            RowLayout {
                id: errorRow
                anchors.fill: parent
                anchors.margins: 6
                Label {
                    id: errorText
                    Layout.fillWidth: true
                    color: appTheme.error
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

        StackLayout {
            Layout.fillWidth: true
            Layout.fillHeight: true
            currentIndex: window.pages.indexOf(window.page)

            // Chat: the first-run screen until there is a model or a stored conversation.
            Item {
                id: chatPage
                readonly property bool firstRun: !App.chat.modelLoaded && App.chat.conversations.count === 0
                // Created once the page has its size, so its layout starts from the real one.
                Loader {
                    anchors.fill: parent
                    active: chatPage.firstRun && chatPage.width > 0 && chatPage.height > 0
                    sourceComponent: FirstRunView {
                        theme: appTheme  // qmllint disable unqualified
                        onAddModelRequested: window.addModel()  // qmllint disable unqualified
                    }
                }
                RowLayout {
                    anchors.fill: parent
                    visible: !chatPage.firstRun
                    spacing: 0
                    ConversationSidebar {
                        id: sidebar
                        Layout.preferredWidth: 260
                        Layout.fillHeight: true
                        theme: appTheme
                        onNewChatRequested: chatView.newChat()
                    }
                    ChatView {
                        id: chatView
                        Layout.fillWidth: true
                        Layout.fillHeight: true
                        theme: appTheme
                        onAddModelRequested: window.addModel()
                        onEditPresetsRequested: window.editPresets()
                    }
                }
            }

            // Models: D-A's ModelsView needs `App.models`.
            Loader {
                id: modelsLoader
                active: window.hasModelsPage
                sourceComponent: ModelsView {
                    theme: appTheme  // qmllint disable unqualified
                    onModelActivated: window.page = "chat"  // qmllint disable unqualified
                }
                Label {
                    anchors.centerIn: parent
                    visible: !window.hasModelsPage
                    color: appTheme.mutedText
                    text: qsTr("The models page is not part of this build.")
                }
            }

            SettingsPage {
                id: settingsPage
                theme: appTheme
            }
        }

        StatusBar {
            Layout.fillWidth: true
            visible: App.chat.modelLoaded || App.server.running
            theme: appTheme
        }
    }

    OverflowDialog {
        id: overflowDialog
        theme: appTheme
        anchors.centerIn: parent
    }

    AboutDialog {
        id: aboutDialog
        theme: appTheme
        info: App.info
        anchors.centerIn: parent
    }
}
