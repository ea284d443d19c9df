import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs
import Sieve.App

// The conversation list: new, search (full text, matches highlighted; Esc
// clears it), rename, delete (with Undo), export. Each row shows the model the
// conversation was held with; its "⋯" button (or a right-click) opens the menu.
Rectangle {
    id: root
    property Theme theme
    color: theme.panel
    // "New chat": Main.qml opens it through the chat view, which then takes the focus.
    signal newChatRequested()

    function focusSearch() { search.forceActiveFocus() }
    function clearSearch() { search.text = "" }
    function textOf(field) { return field.text }  // the save dialog's TextField (an Item to qmllint)

    property var hits: []
    property var menuConversation: -1
    property string menuTitle: ""

    // Rich text for a plain string: escaped, with the search words marked.
    function escapeHtml(s) {
        return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    }
    function mark(s) { return "<b><span style=\"background-color:" + root.theme.highlight + "\">" + s + "</span></b>" }
    // The store's snippet brackets the matches: [word].
    function highlightSnippet(snippet) {
        return escapeHtml(snippet.replace(/\*\*|__|`/g, "")).replace(/\[([^\]]*)\]/g, function (m, word) { return mark(word) })
    }
    function highlightWords(text, query) {
        var words = query.replace(/["*()]/g, " ").split(/\s+/).filter(function (w) {
            return w.length > 0 && ["AND", "OR", "NOT", "NEAR"].indexOf(w) < 0
        })
        var html = escapeHtml(text)
        if (words.length === 0) return html
        var pattern = new RegExp("(" + words.map(function (w) {
            return escapeHtml(w).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        }).join("|") + ")", "gi")
        return html.replace(pattern, function (m) { return mark(m) })
    }
    function openMenu(conversationId, title, item, x, y) {
        root.menuConversation = conversationId
        root.menuTitle = title
        menu.popup(item, x, y)
    }

    Connections {
        target: App.chat
        function onConversationDeleted(title) {
            toast.undoable = true
            toast.show(qsTr("Deleted “%1”").arg(title), qsTr("Undo"), App.chat.undoMilliseconds)
        }
        function onConversationExported(path) {
            toast.undoable = false
            toast.show(qsTr("Saved to %1").arg(path), "", 8000)
        }
    }

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 10
        spacing: 8

        Button {
            objectName: "newChatButton"
            Layout.fillWidth: true
            text: qsTr("New chat")
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Ctrl+N")
            highlighted: true
            Accessible.name: qsTr("Start a new chat")
            onClicked: root.newChatRequested()
        }
        TextField {
            id: search
            objectName: "searchField"
            Layout.fillWidth: true
            placeholderText: qsTr("Search messages (Ctrl+F)")
            color: root.theme.text
            Accessible.name: qsTr("Search messages")
            onTextChanged: root.hits = App.chat.search(text)
            Keys.onEscapePressed: (event) => {
                if (text.length > 0) {
                    text = ""
                    event.accepted = true
                } else {
                    event.accepted = false
                }
            }
        }

        // Search results replace the list while there is a query.
        ListView {
            id: results
            objectName: "searchResults"
            visible: search.text.length > 0
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: root.hits
            Accessible.name: qsTr("Search results")
            delegate: ItemDelegate {
                required property var modelData
                width: ListView.view.width
                contentItem: Column {
                    spacing: 2
                    Label {
                        text: root.highlightWords(modelData.title, search.text)  // qmllint disable unqualified
                        textFormat: Text.StyledText
                        font.bold: true; color: root.theme.text; elide: Text.ElideRight; width: parent.width  // qmllint disable unqualified
                    }
                    Label {
                        objectName: "searchSnippet"
                        text: root.highlightSnippet(modelData.snippet)  // qmllint disable unqualified
                        textFormat: Text.StyledText
                        color: root.theme.mutedText  // qmllint disable unqualified
                        wrapMode: Text.Wrap
                        maximumLineCount: 2
                        elide: Text.ElideRight
                        width: parent.width
                    }
                }
                Accessible.name: qsTr("Result in %1: %2").arg(modelData.title).arg(modelData.snippet)
                onClicked: App.chat.openConversation(modelData.conversationId)
            }
            Label {
                anchors.centerIn: parent
                visible: results.count === 0
                text: qsTr("No messages match")
                color: root.theme.mutedText
            }
        }

        ListView {
            id: list
            objectName: "conversationList"
            visible: search.text.length === 0
            Layout.fillWidth: true
            Layout.fillHeight: true
            clip: true
            model: App.chat.conversations
            reuseItems: true
            spacing: 2
            Accessible.name: qsTr("Conversations")
            ScrollBar.vertical: ScrollBar {}
            delegate: ItemDelegate {
                id: row
                required property var conversationId
                required property string title
                required property string modelName
                required property string modelMode
                width: ListView.view.width
                highlighted: conversationId === App.chat.currentConversation
                text: title
                rightPadding: moreButton.width + 8
                Accessible.name: modelName.length > 0 ? qsTr("Conversation %1, with %2").arg(title).arg(modelName)
                                                  : qsTr("Conversation %1").arg(title)
                background: Rectangle {
                    color: row.highlighted ? root.theme.highlight : (row.hovered ? Qt.lighter(root.theme.panel, 1.05) : "transparent")  // qmllint disable unqualified
                    radius: 6
                }
                contentItem: Column {
                    spacing: 1
                    Label {
                        width: parent.width
                        text: row.title
                        elide: Text.ElideRight
                        color: root.theme.text  // qmllint disable unqualified
                    }
                    Label {
                        objectName: "conversationModel"
                        width: parent.width
                        visible: row.modelName.length > 0
                        text: row.modelMode.length > 0 ? qsTr("%1 · %2 mode").arg(row.modelName).arg(row.modelMode)
                                                       : row.modelName
                        elide: Text.ElideRight
                        color: root.theme.mutedText  // qmllint disable unqualified
                        font.pixelSize: 11
                    }
                }
                onClicked: App.chat.openConversation(conversationId)
                ToolButton {
                    id: moreButton
                    objectName: "conversationMenuButton"
                    anchors.right: parent.right
                    anchors.rightMargin: 2
                    anchors.verticalCenter: parent.verticalCenter
                    width: 28
                    height: 28
                    text: "⋯"
                    opacity: row.hovered || row.highlighted || hovered ? 1 : 0.45
                    palette.buttonText: root.theme.mutedText  // qmllint disable unqualified
                    ToolTip.visible: hovered
                    ToolTip.text: qsTr("Rename, export or delete")
                    Accessible.name: qsTr("More actions for %1").arg(row.title)
                    onClicked: root.openMenu(row.conversationId, row.title, moreButton, 0, moreButton.height)  // qmllint disable unqualified
                }
                TapHandler {
                    acceptedButtons: Qt.RightButton
                    onTapped: (eventPoint) => root.openMenu(row.conversationId, row.title, row,
                                                            eventPoint.position.x, eventPoint.position.y)
                }
            }
            Label {
                anchors.centerIn: parent
                width: parent.width - 20
                visible: list.count === 0
                horizontalAlignment: Text.AlignHCenter
                wrapMode: Text.Wrap
                text: qsTr("No conversations yet")
                color: root.theme.mutedText
            }
        }
    }

    Menu {
        id: menu
        objectName: "conversationMenu"
        MenuItem {
            text: qsTr("Rename…")
            onTriggered: {
                renameField.text = root.menuTitle
                renameDialog.open()
            }
        }
        MenuItem { text: qsTr("Export as Markdown…"); onTriggered: root.startExport("md") }
        MenuItem { text: qsTr("Export as JSON…"); onTriggered: root.startExport("json") }
        MenuItem { text: qsTr("Delete"); onTriggered: App.chat.deleteConversation(root.menuConversation) }
    }

    // Enter renames, Esc cancels; the field has the focus with the old title selected.
    Dialog {
        id: renameDialog
        objectName: "renameDialog"
        title: qsTr("Rename conversation")
        modal: true
        parent: Overlay.overlay
        anchors.centerIn: parent
        width: Math.min(420, parent ? parent.width - 40 : 420)
        standardButtons: Dialog.Ok | Dialog.Cancel
        // The dialog's one content child (not `contentItem:`, which is deferred: an id there makes it immediate).
        TextField {
            id: renameField
            anchors.fill: parent
            objectName: "renameField"
            Accessible.name: qsTr("New title")
            selectByMouse: true
            onAccepted: renameDialog.accept()
            Keys.onEscapePressed: renameDialog.reject()
        }
        onOpened: {
            renameField.forceActiveFocus()
            renameField.selectAll()
        }
        onAccepted: {
            if (renameField.text.trim().length > 0)
                App.chat.renameConversation(root.menuConversation, renameField.text.trim())
        }
    }

    function startExport(format) {
        exportDialog.format = format
        exportDialog.conversation = root.menuConversation
        var suggested = App.chat.exportSuggestion(root.menuConversation, format)
        exportDialog.currentFolder = suggested.toString().replace(/\/[^\/]*$/, "")
        exportDialog.selectedFile = suggested
        exportDialog.open()
    }

    // The real save dialog: a default name (the title + .md / .json), Enter saves.
    FileDialog {
        id: exportDialog
        objectName: "exportDialog"
        property string format: "md"
        property var conversation: -1
        fileMode: FileDialog.SaveFile
        title: qsTr("Export conversation")
        acceptLabel: qsTr("Save")  // Qt's own dialog says "Open" in every mode otherwise
        defaultSuffix: format
        nameFilters: format === "json" ? [qsTr("JSON (*.json)")] : [qsTr("Markdown (*.md)")]
        onAccepted: App.chat.exportConversation(conversation, format, selectedFile)
    }

    // Enter saves. Qt 6.4's own (non-native) save dialog only takes the typed name on Enter;
    // this saves under the name in its field, as a native dialog does.
    Shortcut {
        sequences: ["Return", "Enter"]
        // A window shortcut is blocked by the dialog's modal popup; the dialog is what is open.
        context: Qt.ApplicationShortcut
        enabled: exportDialog.visible
        onActivated: {
            var field = root.Window.activeFocusItem
            if (field && field.objectName === "fileNameTextField" && root.textOf(field).length > 0) {
                var folder = String(exportDialog.currentFolder).replace(/\/$/, "")
                exportDialog.selectedFile = folder + "/" + encodeURIComponent(root.textOf(field))
            }
            exportDialog.accept()
        }
    }

    Toast {
        id: toast
        objectName: "toast"
        property bool undoable: false
        theme: root.theme
        onActionTriggered: if (undoable) App.chat.undoDelete()
    }

    // A note about the chats ("Saved to …") belongs to the chat page: leaving
    // it closes the note rather than leaving it over Settings or Models. An
    // Undo stays for its few seconds, wherever the user went.
    onVisibleChanged: if (!visible && !toast.undoable) toast.close()
}
