import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// The open conversation: its messages (the reply streams into the last one),
// the input box, Send / Stop, and a status line.
Item {
    id: root
    property QtObject theme

    function focusInput() { input.forceActiveFocus() }
    function sendInput() {
        if (input.text.trim().length === 0 || chat.generating)
            return
        chat.send(input.text)
        input.text = ""
    }

    ColumnLayout {
        anchors.fill: parent
        spacing: 0

        ListView {
            id: messageList
            objectName: "messageList"
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: chat.messages
            spacing: 2
            topMargin: 10
            bottomMargin: 10
            reuseItems: true
            Accessible.name: qsTr("Messages")
            ScrollBar.vertical: ScrollBar {}
            delegate: MessageBubble {
                theme: root.theme
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
                text: qsTr("Type a message below to start a conversation with %1.").arg(chat.modelName)
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
                    text: chat.generating ? qsTr("Stop") : qsTr("Send")
                    highlighted: !chat.generating
                    enabled: chat.generating || (input.text.trim().length > 0 && chat.modelLoaded)
                    Layout.preferredWidth: 84
                    Layout.preferredHeight: 40
                    Accessible.name: chat.generating ? qsTr("Stop the reply") : qsTr("Send the message")
                    onClicked: chat.generating ? chat.stop() : root.sendInput()
                }
            }
        }

        Label {
            Layout.fillWidth: true
            Layout.leftMargin: 12
            Layout.rightMargin: 12
            Layout.topMargin: 4
            Layout.bottomMargin: 4
            elide: Text.ElideRight
            color: root.theme.mutedText
            font.pixelSize: 12
            text: chat.modelName + " · " + chat.statusText
            Accessible.name: qsTr("Status: %1").arg(chat.statusText)
        }
    }
}
