import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One message: the user's on the right, the model's on the left, as Markdown.
Item {
    id: root
    property QtObject theme
    // From the message model (MessageListModel roles).
    required property string role
    required property string content
    required property bool complete
    readonly property bool fromUser: role === "user"
    width: ListView.view ? ListView.view.width : 400
    implicitHeight: bubble.height + 14

    TextEdit {
        id: clipboardHelper  // the way QML reaches the clipboard without C++
        visible: false
        textFormat: TextEdit.PlainText
    }

    Rectangle {
        id: bubble
        x: root.fromUser ? root.width - width - 16 : 16
        y: 7
        width: Math.min(root.width * 0.8, Math.max(body.implicitWidth, 120) + 28)
        height: body.height + footer.height + 22
        radius: 10
        color: root.fromUser ? root.theme.userBubble : root.theme.assistantBubble
        border.color: root.theme.border

        // Text, not TextEdit: its `text` stays the Markdown source, so the UI test can check the
        // whole streamed reply is shown (a TextEdit re-serialises it). Copy is the button below.
        Text {
            id: body
            x: 14
            y: 10
            width: parent.width - 28
            wrapMode: Text.Wrap
            color: root.theme.text
            linkColor: root.theme.accent
            font.pixelSize: 15
            textFormat: Text.MarkdownText
            text: root.content.length > 0 ? root.content : (root.complete ? "" : "…")
            onLinkActivated: (link) => Qt.openUrlExternally(link)
            Accessible.role: Accessible.StaticText
            Accessible.name: (root.fromUser ? qsTr("You: ") : qsTr("Assistant: ")) + root.content
        }
        RowLayout {
            id: footer
            anchors.left: body.left
            anchors.right: body.right
            anchors.top: body.bottom
            anchors.topMargin: 4
            height: 24
            Label {
                text: root.complete ? "" : qsTr("writing…")
                color: root.theme.mutedText
                font.pixelSize: 12
                Layout.fillWidth: true
            }
            ToolButton {
                text: qsTr("Copy")
                font.pixelSize: 12
                implicitHeight: 24
                visible: root.complete && root.content.length > 0
                Accessible.name: qsTr("Copy this message")
                onClicked: {
                    clipboardHelper.text = root.content
                    clipboardHelper.selectAll()
                    clipboardHelper.copy()
                }
            }
        }
    }
}
