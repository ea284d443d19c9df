import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// One message: the user's on the right, the model's on the left, at most
// kMaxBubbleWidth wide. Prose is selectable Markdown; fenced code blocks
// (```lang ... ```) get their own monospace panel with a Copy button. The
// user's messages can be edited and re-sent, the last reply regenerated (its
// versions flipped with < 2/3 >) or continued when it stopped at a limit, any
// message copied ("Copied" confirms). The "⋯" button (or a right-click) opens
// the same actions as a menu.
Item {
    id: root
    property Theme theme
    // From the message model (MessageListModel roles).
    required property int index
    required property var messageId
    required property string role
    required property string content
    required property bool complete
    required property string stopReason
    required property int version
    required property int versionCount
    // A readable line length on wide windows.
    readonly property real maxBubbleWidth: 760
    readonly property bool fromUser: role === "user"
    readonly property bool isLast: ListView.view ? index === ListView.view.count - 1 : false
    readonly property bool idle: !App.chat.generating && App.chat.modelLoaded
    property bool editing: false
    property bool copied: false  // "Copied" shows for a moment after Copy
    // Prose and code, in order: [{code: bool, text, lang}]
    readonly property var segments: splitFences(content)

    width: ListView.view ? ListView.view.width : 400
    implicitHeight: bubble.height + 14

    ListView.onReused: { editing = false; copied = false }  // a recycled delegate starts afresh

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
    function copyMessage() {
        copyText(root.content)
        root.copied = true
        copiedTimer.restart()
    }
    function startEdit() {
        editArea.text = root.content
        root.editing = true
        editArea.forceActiveFocus()
        editArea.cursorPosition = editArea.length
    }
    Timer {
        id: copiedTimer
        interval: 1500
        onTriggered: root.copied = false
    }
    readonly property bool canRegenerate: !root.fromUser && root.isLast && root.complete && root.idle
    readonly property string stopNote: !root.complete ? ""
        : root.stopReason === "length" ? qsTr("The reply stopped at the length limit (the preset's reply length).")
        : root.stopReason === "context" ? qsTr("The reply stopped: the context is full.")
        : ""

    Rectangle {
        id: bubble
        x: root.fromUser ? root.width - width - 16 : 16
        y: 7
        readonly property real widest: Math.min(root.width * 0.8, root.maxBubbleWidth)
        width: root.editing ? widest
                            : Math.min(widest, Math.max(body.naturalWidth, footer.implicitWidth, stopRow.naturalWidth, 120) + 28)
        height: (root.editing ? editor.height : body.height) + (stopRow.visible ? stopRow.height + 6 : 0)
                + footer.height + 22
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
                    readonly property var segment: root.segments[index] || { code: false, text: "", lang: "" }  // qmllint disable unqualified
                    readonly property var content: item  // prose or codeBlock (Loader.item is a QObject to qmllint)
                    readonly property real naturalWidth: content ? content.naturalWidth : 0
                    // qmllint disable unqualified
                    width: body.width  // the height follows the item's
                    // qmllint enable unqualified
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

        // A reply cut short by a limit says so, and can go on.
        RowLayout {
            id: stopRow
            objectName: "stopNote"
            visible: root.stopNote.length > 0 && !root.editing
            readonly property real naturalWidth: visible ? stopLabel.implicitWidth + continueButton.implicitWidth + 12 : 0
            x: 14
            width: parent.width - 28
            anchors.top: body.bottom
            anchors.topMargin: 6
            spacing: 6
            Label {
                id: stopLabel
                Layout.fillWidth: true
                text: root.stopNote
                wrapMode: Text.Wrap
                color: root.theme.mutedText
                font.italic: true
                font.pixelSize: 12
            }
            Button {
                id: continueButton
                objectName: "continueButton"
                text: qsTr("Continue")
                visible: root.isLast && root.idle
                font.pixelSize: 12
                Accessible.name: qsTr("Continue the reply")
                onClicked: App.chat.continueReply()
            }
        }

        RowLayout {
            id: footer
            x: 14
            width: parent.width - 28
            anchors.top: root.editing ? editor.bottom : stopRow.visible ? stopRow.bottom : body.bottom
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
                palette.buttonText: root.theme.mutedText  // qmllint disable unqualified
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
            // Versions of a regenerated reply: < 2/3 > (flipping: the last reply, while idle).
            FooterButton {
                objectName: "previousVersion"
                text: "‹"
                visible: root.versionCount > 1 && !root.editing
                enabled: root.isLast && root.idle && root.complete && root.version > 1
                Accessible.name: qsTr("Show the previous version of this reply")
                onClicked: App.chat.showVersion(root.messageId, root.version - 1)
            }
            Label {
                objectName: "versionText"
                visible: root.versionCount > 1 && !root.editing
                text: qsTr("%1/%2").arg(root.version).arg(root.versionCount)
                color: root.theme.mutedText
                font.pixelSize: 12
                Accessible.name: qsTr("Version %1 of %2").arg(root.version).arg(root.versionCount)
            }
            FooterButton {
                objectName: "nextVersion"
                text: "›"
                visible: root.versionCount > 1 && !root.editing
                enabled: root.isLast && root.idle && root.complete && root.version < root.versionCount
                Accessible.name: qsTr("Show the next version of this reply")
                onClicked: App.chat.showVersion(root.messageId, root.version + 1)
            }
            FooterButton {
                text: qsTr("Edit")
                visible: root.fromUser && !root.editing && root.idle
                Accessible.name: qsTr("Edit this message and send it again")
                onClicked: root.startEdit()
            }
            FooterButton {
                text: qsTr("Regenerate")
                visible: root.canRegenerate
                Accessible.name: qsTr("Write this reply again (the current one is kept as a version)")
                onClicked: App.chat.regenerate()
            }
            FooterButton {
                objectName: "copyButton"
                text: root.copied ? qsTr("Copied") : qsTr("Copy")
                visible: root.complete && root.content.length > 0 && !root.editing
                Accessible.name: root.copied ? qsTr("Copied to the clipboard") : qsTr("Copy this message")
                onClicked: root.copyMessage()
            }
            FooterButton {
                id: menuButton
                objectName: "messageMenuButton"
                text: "⋯"
                visible: !root.editing && root.complete
                Accessible.name: qsTr("More actions for this message")
                onClicked: messageMenu.popup(menuButton, 0, menuButton.height)
            }
        }
    }

    TapHandler {
        acceptedButtons: Qt.RightButton
        onTapped: (eventPoint) => { if (root.complete && !root.editing) messageMenu.popup(root, eventPoint.position.x, eventPoint.position.y) }
    }
    Menu {
        id: messageMenu
        MenuItem {
            text: qsTr("Copy")
            enabled: root.content.length > 0
            onTriggered: root.copyMessage()
        }
        MenuItem {
            text: qsTr("Edit and resend")
            visible: root.fromUser
            height: visible ? implicitHeight : 0
            enabled: root.idle
            onTriggered: root.startEdit()
        }
        MenuItem {
            text: qsTr("Regenerate")
            visible: !root.fromUser
            height: visible ? implicitHeight : 0
            enabled: root.canRegenerate
            onTriggered: App.chat.regenerate()
        }
    }

    function resend() {
        if (editArea.text.trim().length === 0 || !root.idle)
            return
        root.editing = false
        App.chat.editMessage(root.messageId, editArea.text)
    }

    Component {
        id: prose
        // A read-only TextEdit, so prose can be selected and copied like code. `markdown` keeps
        // the source (a TextEdit's `text` is re-serialised), for the UI test and accessibility.
        TextEdit {
            // The Loader's segment (a loaded item sees the component's context, not the Loader's).
            readonly property var loader: parent  // the Loader (an Item to qmllint)
            readonly property var segment: loader ? loader.segment : ({ code: false, text: "", lang: "" })
            readonly property string markdown: segment.text
            // Like Text, a TextEdit's implicitWidth is its unwrapped width (computed when asked).
            readonly property real naturalWidth: Math.ceil(implicitWidth)
            width: parent ? parent.width : 0
            readOnly: true
            selectByMouse: true
            wrapMode: TextEdit.Wrap
            color: root.theme.text  // qmllint disable unqualified
            selectionColor: root.theme.accent  // qmllint disable unqualified
            selectedTextColor: root.theme.textOnAccent  // qmllint disable unqualified
            font.pixelSize: 15
            textFormat: TextEdit.MarkdownText
            text: segment.text
            onLinkActivated: (link) => Qt.openUrlExternally(link)
            Accessible.role: Accessible.StaticText
            Accessible.name: (root.fromUser ? qsTr("You: ") : qsTr("Assistant: ")) + segment.text  // qmllint disable unqualified
        }
    }

    Component {
        id: codeBlock
        Rectangle {
            id: codePanel
            readonly property var loader: parent  // the Loader (an Item to qmllint)
            readonly property var segment: loader ? loader.segment : ({ code: true, text: "", lang: "" })
            readonly property real naturalWidth: Math.max(code.implicitWidth, langRow.implicitWidth) + 20
            width: parent ? parent.width : 0
            height: langRow.height + code.height + 14
            radius: 6
            color: root.theme.codeBackground  // qmllint disable unqualified
            border.color: root.theme.border  // qmllint disable unqualified
            RowLayout {
                id: langRow
                x: 10
                y: 4
                width: parent.width - 20
                height: 22
                Label {
                    Layout.fillWidth: true
                    text: codePanel.segment.lang.length > 0 ? codePanel.segment.lang : qsTr("code")
                    color: root.theme.mutedText  // qmllint disable unqualified
                    font.pixelSize: 11
                }
                ToolButton {
                    text: qsTr("Copy code")
                    font.pixelSize: 11
                    implicitHeight: 22
                    palette.buttonText: root.theme.mutedText  // qmllint disable unqualified
                    Accessible.name: qsTr("Copy this code")
                    onClicked: root.copyText(codePanel.segment.text)  // qmllint disable unqualified
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
                color: root.theme.text  // qmllint disable unqualified
                selectionColor: root.theme.accent  // qmllint disable unqualified
                text: codePanel.segment.text
                Accessible.name: qsTr("Code: %1").arg(codePanel.segment.text)
            }
        }
    }
}
