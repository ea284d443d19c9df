import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// One message: the user's on the right, the model's on the left. Prose is
// Markdown; fenced code blocks (```lang ... ```) get their own monospace
// panel with a Copy button. The user's messages can be edited and re-sent,
// the last reply regenerated, any message copied.
Item {
    id: root
    property QtObject theme
    // From the message model (MessageListModel roles).
    required property int index
    required property var messageId
    required property string role
    required property string content
    required property bool complete
    readonly property bool fromUser: role === "user"
    readonly property bool isLast: ListView.view ? index === ListView.view.count - 1 : false
    readonly property bool idle: !chat.generating && chat.modelLoaded
    property bool editing: false
    // Prose and code, in order: [{code: bool, text, lang}]
    readonly property var segments: splitFences(content)

    width: ListView.view ? ListView.view.width : 400
    implicitHeight: bubble.height + 14

    ListView.onReused: editing = false  // a recycled delegate starts out of edit mode

    // Splits Markdown at ``` fences; an unclosed fence (a reply still streaming) runs to the end.
    function splitFences(text) {
        var out = []
        var fence = /^```([^\n`]*)\n?/m
        var rest = text
        while (rest.length > 0) {
            var open = rest.search(fence)
            if (open < 0) { out.push({ code: false, text: rest, lang: "" }); break }
            if (open > 0) out.push({ code: false, text: rest.slice(0, open), lang: "" })
            var header = rest.slice(open).match(fence)
            var body = rest.slice(open + header[0].length)
            var close = body.search(/^```[ \t]*$/m)
            var code = close < 0 ? body : body.slice(0, close)
            out.push({ code: true, text: code.replace(/\n$/, ""), lang: header[1].trim() })
            if (close < 0) break
            rest = body.slice(close).replace(/^```[ \t]*\n?/, "")
        }
        return out
    }

    TextEdit {
        id: clipboardHelper  // the way QML reaches the clipboard without C++
        visible: false
        textFormat: TextEdit.PlainText
    }
    function copyText(text) {
        clipboardHelper.text = text
        clipboardHelper.selectAll()
        clipboardHelper.copy()
    }

    Rectangle {
        id: bubble
        x: root.fromUser ? root.width - width - 16 : 16
        y: 7
        width: root.editing ? root.width * 0.8
                            : Math.min(root.width * 0.8, Math.max(body.naturalWidth, footer.implicitWidth, 120) + 28)
        height: (root.editing ? editor.height : body.height) + footer.height + 22
        radius: 10
        color: root.fromUser ? root.theme.userBubble : root.theme.assistantBubble
        border.color: root.theme.border

        Column {
            id: body
            visible: !root.editing
            x: 14
            y: 10
            width: parent.width - 28
            spacing: 6
            // The widest line any segment wants, so short messages get short bubbles.
            readonly property real naturalWidth: {
                var w = 0
                for (var i = 0; i < children.length; ++i) w = Math.max(w, children[i].naturalWidth || 0)
                return w
            }

            Repeater {
                // A count, not the array: while a reply streams the segments keep their items.
                model: root.segments.length
                delegate: Loader {
                    required property int index
                    readonly property var segment: root.segments[index] || { code: false, text: "", lang: "" }
                    readonly property real naturalWidth: item ? item.naturalWidth : 0
                    width: body.width  // the height follows the item's
                    sourceComponent: segment.code ? codeBlock : prose
                }
            }
            // An empty reply that is still being written.
            Text {
                visible: root.content.length === 0
                text: root.complete ? "" : "…"
                color: root.theme.mutedText
                font.pixelSize: 15
                readonly property real naturalWidth: implicitWidth
            }
        }

        // Edit-and-resend.
        ScrollView {
            id: editor
            visible: root.editing
            x: 14
            y: 10
            width: parent.width - 28
            height: Math.min(Math.max(editArea.implicitHeight, 60), 240)
            TextArea {
                id: editArea
                wrapMode: TextEdit.Wrap
                font.pixelSize: 15
                color: root.theme.text
                Accessible.name: qsTr("Edit your message")
                Keys.onEscapePressed: root.editing = false
                Keys.onReturnPressed: (event) => {
                    if (event.modifiers & Qt.ShiftModifier) event.accepted = false
                    else root.resend()
                }
            }
        }

        RowLayout {
            id: footer
            x: 14
            width: parent.width - 28
            anchors.top: root.editing ? editor.bottom : body.bottom
            anchors.topMargin: 4
            height: 24
            spacing: 2
            Label {
                text: root.complete ? "" : qsTr("writing…")
                color: root.theme.mutedText
                font.pixelSize: 12
                Layout.fillWidth: true
            }
            component FooterButton: ToolButton {
                font.pixelSize: 12
                implicitHeight: 24
                palette.buttonText: root.theme.mutedText
            }
            FooterButton {
                text: qsTr("Cancel")
                visible: root.editing
                Accessible.name: qsTr("Cancel the edit")
                onClicked: root.editing = false
            }
            FooterButton {
                text: qsTr("Save and send")
                visible: root.editing
                enabled: editArea.text.trim().length > 0 && root.idle
                Accessible.name: qsTr("Save the edit and send it again")
                onClicked: root.resend()
            }
            FooterButton {
                text: qsTr("Edit")
                visible: root.fromUser && !root.editing && root.idle
                Accessible.name: qsTr("Edit this message and send it again")
                onClicked: {
                    editArea.text = root.content
                    root.editing = true
                    editArea.forceActiveFocus()
                    editArea.cursorPosition = editArea.length
                }
            }
            FooterButton {
                text: qsTr("Regenerate")
                visible: !root.fromUser && root.isLast && root.complete && root.idle
                Accessible.name: qsTr("Write this reply again")
                onClicked: chat.regenerate()
            }
            FooterButton {
                text: qsTr("Copy")
                visible: root.complete && root.content.length > 0 && !root.editing
                Accessible.name: qsTr("Copy this message")
                onClicked: root.copyText(root.content)
            }
        }
    }

    function resend() {
        if (editArea.text.trim().length === 0 || !root.idle)
            return
        root.editing = false
        chat.editMessage(root.messageId, editArea.text)
    }

    Component {
        id: prose
        // Text, not TextEdit: its `text` stays the Markdown source, so the UI test can check the
        // whole streamed reply is shown (a TextEdit re-serialises it).
        Text {
            // The Loader's segment (a loaded item sees the component's context, not the Loader's).
            readonly property var segment: parent ? parent.segment : ({ code: false, text: "", lang: "" })
            readonly property real naturalWidth: implicitWidth
            width: parent ? parent.width : 0
            wrapMode: Text.Wrap
            color: root.theme.text
            linkColor: root.theme.accent
            font.pixelSize: 15
            textFormat: Text.MarkdownText
            text: segment.text
            onLinkActivated: (link) => Qt.openUrlExternally(link)
            Accessible.role: Accessible.StaticText
            Accessible.name: (root.fromUser ? qsTr("You: ") : qsTr("Assistant: ")) + segment.text
        }
    }

    Component {
        id: codeBlock
        Rectangle {
            id: codePanel
            readonly property var segment: parent ? parent.segment : ({ code: true, text: "", lang: "" })
            readonly property real naturalWidth: Math.max(code.implicitWidth, langRow.implicitWidth) + 20
            width: parent ? parent.width : 0
            height: langRow.height + code.height + 14
            radius: 6
            color: root.theme.codeBackground
            border.color: root.theme.border
            RowLayout {
                id: langRow
                x: 10
                y: 4
                width: parent.width - 20
                height: 22
                Label {
                    Layout.fillWidth: true
                    text: codePanel.segment.lang.length > 0 ? codePanel.segment.lang : qsTr("code")
                    color: root.theme.mutedText
                    font.pixelSize: 11
                }
                ToolButton {
                    text: qsTr("Copy code")
                    font.pixelSize: 11
                    implicitHeight: 22
                    palette.buttonText: root.theme.mutedText
                    Accessible.name: qsTr("Copy this code")
                    onClicked: root.copyText(codePanel.segment.text)
                }
            }
            TextEdit {
                id: code
                x: 10
                y: langRow.y + langRow.height + 2
                width: parent.width - 20
                readOnly: true
                selectByMouse: true
                wrapMode: TextEdit.WrapAnywhere
                textFormat: TextEdit.PlainText
                font.family: "monospace"
                font.pixelSize: 13
                color: root.theme.text
                selectionColor: root.theme.accent
                text: codePanel.segment.text
                Accessible.name: qsTr("Code: %1").arg(codePanel.segment.text)
            }
        }
    }
}
