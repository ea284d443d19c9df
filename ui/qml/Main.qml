import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import QtCore
import Qt.labs.settings

// The main window: a navigation bar (Chat / Models / Settings), the pages, and
// the live status bar. Context properties from C++ (app_window.cpp): `chat`
// (ChatController), `settings` (AppSettings, persisted), `planner`
// (MemoryPlanner), `appInfo` (About) and, when the models part is built in, `models`.
ApplicationWindow {
    id: window
    width: 1100
    height: 720
    minimumWidth: 760
    minimumHeight: 500
    visible: true
    title: chat.modelLoaded ? qsTr("Sieve — %1").arg(chat.modelName) : qsTr("Sieve")
    color: appTheme.window

    Theme {
        id: appTheme
        objectName: "appTheme"  // app_window.cpp keeps the link colour at its accent
        dark: settings.dark
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
    readonly property bool hasModelsPage: typeof models !== "undefined"

    Component.onCompleted: {
        if (chat.modelPath === "" && settings.lastModel !== "")
            chat.loadModel(settings.lastModel)
    }

    Connections {
        target: chat
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
        function onModelChanged() { if (chat.modelLoaded) errorBanner.visible = false }
    }

    // Without the models page: a plain file dialog loads a GGUF directly.
    FileDialog {
        id: modelDialog
        title: qsTr("Open a GGUF model")
        nameFilters: [qsTr("GGUF models (*.gguf *.sieve)"), qsTr("All files (*)")]
        currentFolder: StandardPaths.writableLocation(StandardPaths.HomeLocation)  // not the app's working folder
        onAccepted: chat.loadModel(selectedFile)
    }

    function addModel() {
        if (hasModelsPage) {
            page = "models"
            modelsLoader.item.addModel()
        } else {
            modelDialog.open()
        }
    }
    function showPage(name) { page = name }
    function openSettings() { page = "settings" }
    function closeSettings() { page = "chat" }

    Shortcut { sequence: StandardKey.New; onActivated: { window.page = "chat"; chatView.newChat() } }
    Shortcut { sequence: "Ctrl+L"; onActivated: { window.page = "chat"; chatView.focusInput() } }
    Shortcut { sequence: "Escape"; enabled: chat.generating; onActivated: chat.stop() }
    Shortcut { sequence: StandardKey.Find; onActivated: { window.page = "chat"; sidebar.focusSearch() } }
    Shortcut { sequence: "Ctrl+R"; enabled: !chat.generating && chat.modelLoaded; onActivated: chat.regenerate() }
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
                    flat: window.page !== modelData.name
                    highlighted: window.page === modelData.name
                    Accessible.name: qsTr("Show %1 (%2)").arg(modelData.label).arg(modelData.keys)
                    onClicked: window.page = modelData.name
                    FocusRing { theme: appTheme }
                }
            }
            Item { Layout.fillWidth: true }
            Label {
                Layout.maximumWidth: window.width * 0.45
                elide: Text.ElideRight
                color: appTheme.mutedText
                text: chat.loading ? qsTr("Loading…")
                                   : chat.modelLoaded ? qsTr("%1 · %2 mode · %3-token context")
                                                        .arg(chat.modelName).arg(chat.loadedMode).arg(chat.contextSize)
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
            currentIndex: ["chat", "models", "settings"].indexOf(window.page)

            // Chat: the first-run screen until there is a model or a stored conversation.
            Item {
                id: chatPage
                readonly property bool firstRun: !chat.modelLoaded && chat.conversations.count === 0
                // Created once the page has its size, so its layout starts from the real one.
                Loader {
                    anchors.fill: parent
                    active: chatPage.firstRun && chatPage.width > 0 && chatPage.height > 0
                    sourceComponent: FirstRunView {
                        theme: appTheme
                        onAddModelRequested: window.addModel()
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
                    }
                }
            }

            // Models: D-A's ModelsView needs the `models` context property.
            Loader {
                id: modelsLoader
                active: window.hasModelsPage
                sourceComponent: ModelsView {
                    theme: appTheme
                    onModelActivated: window.page = "chat"
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
            visible: chat.modelLoaded
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
        info: appInfo
        anchors.centerIn: parent
    }
}
