import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// The open conversation: a header with its preset (App.presets.offered: the
// presets for every model and the loaded model's; "Edit presets…" asks for the
// settings page's editor), its messages (the reply streams into the last one),
// the input box and Send / Stop. Without a model, a note says how to get one.
// objectNames used by tests: presetPicker, presetSummary.
Item {
    id: root
    property Theme theme
    signal addModelRequested()
    signal editPresetsRequested()

    function focusInput() { input.forceActiveFocus() }
    // Ctrl+N and "New chat": a new conversation with the cursor in the message box,
    // so what is typed right after lands there.
    function newChat() {
        App.chat.newConversation()
        focusInput()
        refocus.restart()  // again once the event loop turns: the chat page may only now be shown
    }
    Timer { id: refocus; interval: 0; onTriggered: root.focusInput() }
    function setInput(text) {
        input.text = text
        input.cursorPosition = input.length
        focusInput()
    }
    function sendInput() {
        if (input.text.trim().length === 0 || App.chat.generating)
            return
        App.chat.send(input.text)
        input.text = ""
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        // The conversation's preset: a change applies to its next reply.
        Rectangle {
            visible: App.presets !== null
            Layout.fillWidth: true
            implicitHeight: presetRow.implicitHeight + 12
            color: root.theme.window  // the picker (a panel-coloured control) stands out on it
            Rectangle { anchors.bottom: parent.bottom; width: parent.width; height: 1; color: root.theme.border }
            RowLayout {
                id: presetRow
                anchors.fill: parent
                anchors.leftMargin: 12
                anchors.rightMargin: 12
                anchors.topMargin: 6
                anchors.bottomMargin: 6
                spacing: 8
                Label { text: qsTr("Preset"); color: root.theme.mutedText }
                ComboBox {
                    id: presetPicker
                    objectName: "presetPicker"
                    Layout.preferredWidth: 240
                    readonly property var presets: App.presets ? App.presets.offered : []
                    readonly property int chosen: indexOfCurrent()
                    function indexOfCurrent() {
                        for (let i = 0; i < presets.length; ++i) {
                            if (presets[i].id === App.chat.currentPreset)
                                return i
                        }
                        return -1
                    }
                    model: presets.map(p => p.label).concat([qsTr("Edit presets…")])
                    currentIndex: chosen
                    onActivated: (index) => {
                        if (index < presets.length)
                            App.chat.choosePreset(presets[index].id)
                        else
                            root.editPresetsRequested()
                        currentIndex = Qt.binding(() => presetPicker.chosen)  // the conversation's, whatever was clicked
                    }
                    Accessible.name: qsTr("Preset for this conversation")
                    ToolTip.visible: hovered
                    ToolTip.delay: 500
                    ToolTip.text: qsTr("The system prompt and sampling this conversation's next reply uses")
                }
                Label {
                    objectName: "presetSummary"
                    Layout.fillWidth: true
                    elide: Text.ElideRight
                    color: root.theme.mutedText
                    font.pixelSize: 12
                    text: presetPicker.chosen >= 0 ? presetPicker.presets[presetPicker.chosen].summary : ""
                }
            }
        }

        ListView {
            id: messageList
            objectName: "messageList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: App.chat.messages
            spacing: 2
            topMargin: 10
            bottomMargin: 10
            reuseItems: true           // long chats: delegates are recycled, not re-created
            cacheBuffer: 1200          // and a screen's worth is kept ready either side
            Accessible.name: qsTr("Messages")
            ScrollBar.vertical: ScrollBar {}
            delegate: MessageBubble {
                theme: root.theme  // qmllint disable unqualified
            }
            // Follow the streaming reply unless the user scrolled up to read.
            property bool following: true
            onMovementEnded: following = atYEnd
            onContentHeightChanged: if (following) positionViewAtEnd()
            onCountChanged: { following = true; positionViewAtEnd() }

            Label {
                anchors.centerIn: parent
                width: parent.width - 80
                visible: messageList.count === 0
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                color: root.theme.mutedText
                font.pixelSize: 15
                text: App.chat.modelLoaded ? qsTr("Type a message below to start a conversation with %1.").arg(App.chat.modelName)
                                       : qsTr("Load a model to chat.")
            }
        }

        // No model: the history can be read, but nothing can reply.
        Rectangle {
            visible: !App.chat.modelLoaded
            Layout.fillWidth: true
            implicitHeight: noModelRow.implicitHeight + 16
            color: root.theme.highlight
            RowLayout {
                id: noModelRow
                anchors.fill: parent
                anchors.margins: 8
                Label {
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    color: root.theme.text
                    text: App.chat.loading ? qsTr("Loading the model…") : qsTr("No model is loaded: add or choose one to reply.")
                }
                Button {
                    text: qsTr("Models…")
                    visible: !App.chat.loading
                    Accessible.name: qsTr("Add or choose a model")
                    onClicked: root.addModelRequested()
                }
            }
        }

        Rectangle {
            Layout.fillWidth: true
            implicitHeight: inputRow.implicitHeight + 20
            color: root.theme.panel
            border.color: root.theme.border

            RowLayout {
                id: inputRow
                anchors.fill: parent
                anchors.margins: 10
                spacing: 8

                ScrollView {
                    Layout.fillWidth: true
                    Layout.preferredHeight: Math.min(Math.max(input.implicitHeight, 40), 140)
                    TextArea {
                        id: input
                        objectName: "messageInput"
                        placeholderText: qsTr("Message (Enter sends, Shift+Enter adds a line)")
                        wrapMode: TextEdit.Wrap
                        font.pixelSize: 15
                        color: root.theme.text
                        background: Rectangle {
                            color: root.theme.assistantBubble
                            border.color: input.activeFocus ? root.theme.accent : root.theme.border
                            radius: 6
                        }
                        Accessible.name: qsTr("Message input")
                        Keys.onReturnPressed: (event) => {
                            if (event.modifiers & Qt.ShiftModifier) {
                                event.accepted = false
                            } else {
                                root.sendInput()
                            }
                        }
                    }
                }
                Button {
                    text: App.chat.generating ? qsTr("Stop") : qsTr("Send")
                    highlighted: !App.chat.generating
                    enabled: App.chat.generating || (input.text.trim().length > 0 && App.chat.modelLoaded)
                    Layout.preferredWidth: 84
                    Layout.preferredHeight: 40
                    Accessible.name: App.chat.generating ? qsTr("Stop the reply") : qsTr("Send the message")
                    onClicked: App.chat.generating ? App.chat.stop() : root.sendInput()
                }
            }
        }

        // The status line without a model (with one, the window's StatusBar shows it).
        Label {
            visible: !App.chat.modelLoaded && App.chat.statusText.length > 0
            Layout.fillWidth: true
            Layout.margins: 6
            elide: Text.ElideRight
            color: root.theme.mutedText
            font.pixelSize: 12
            text: App.chat.statusText
            Accessible.name: qsTr("Status: %1").arg(App.chat.statusText)
        }
    }
}
