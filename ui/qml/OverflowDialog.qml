import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// Asked when the conversation no longer fits the model's context, instead of
// silently forgetting: drop the oldest messages, move the last message to a
// new chat, or cancel (the message goes back to the input box).
Dialog {
    id: root
    property Theme theme
    property int droppedMessages: 0
    property int context: 0
    objectName: "overflowDialog"
    title: qsTr("The conversation is too long")
    modal: true
    closePolicy: Popup.CloseOnEscape
    width: Math.min(parent ? parent.width - 80 : 520, 520)
    palette.window: theme.window
    palette.windowText: theme.text
    palette.button: theme.panel
    palette.buttonText: theme.text
    palette.dark: theme.accent
    palette.brightText: theme.textOnAccent
    palette.base: theme.assistantBubble
    palette.text: theme.text

    header: Label {
        text: root.title
        font.bold: true
        font.pixelSize: 17
        color: root.theme.text
        padding: 14
        background: Rectangle { color: root.theme.window }
    }

    onRejected: App.chat.resolveOverflow("cancel")  // Escape

    ColumnLayout {
        anchors.fill: parent
        spacing: 12
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: root.theme.text
            text: qsTr("This conversation no longer fits the model's %1-token context. To reply, Sieve would " +
                       "have to leave out the %2 oldest messages.").arg(root.context).arg(root.droppedMessages)
        }
        Button {
            objectName: "overflowDrop"
            Layout.fillWidth: true
            highlighted: true
            text: qsTr("Drop the oldest messages and reply")
            Accessible.name: text
            onClicked: { root.close(); App.chat.resolveOverflow("drop") }
        }
        Button {
            objectName: "overflowNewChat"
            Layout.fillWidth: true
            text: qsTr("Start a new chat with the last message")
            Accessible.name: text
            onClicked: { root.close(); App.chat.resolveOverflow("newChat") }
        }
        Button {
            objectName: "overflowCancel"
            Layout.fillWidth: true
            text: qsTr("Cancel (the message goes back to the input box)")
            Accessible.name: qsTr("Cancel")
            onClicked: { root.close(); App.chat.resolveOverflow("cancel") }
        }
    }
}
