import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import QtQuick.Dialogs

// The conversation list: new, search (full text), rename, delete, export.
Rectangle {
    id: root
    property QtObject theme
    color: theme.panel

    function focusSearch() { search.forceActiveFocus() }

    property var hits: []
    property var menuConversation: -1

    ColumnLayout {
        anchors.fill: parent
        anchors.margins: 10
        spacing: 8

        Button {
            Layout.fillWidth: true
            text: qsTr("New chat")
            ToolTip.visible: hovered
            ToolTip.text: qsTr("Ctrl+N")
            highlighted: true
            Accessible.name: qsTr("Start a new chat")
            onClicked: chat.newConversation()
        }
        TextField {
            id: search
            Layout.fillWidth: true
            placeholderText: qsTr("Search messages (Ctrl+F)")
            color: root.theme.text
            Accessible.name: qsTr("Search messages")
            onTextChanged: root.hits = chat.search(text)
        }

        // Search results replace the list while there is a query.
        ListView {
            id: results
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
                    Label { text: modelData.title; font.bold: true; color: root.theme.text; elide: Text.ElideRight; width: parent.width }
                    Label { text: modelData.snippet; color: root.theme.mutedText; elide: Text.ElideRight; width: parent.width }
                }
                Accessible.name: qsTr("Result in %1: %2").arg(modelData.title).arg(modelData.snippet)
                onClicked: chat.openConversation(modelData.conversationId)
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
            model: chat.conversations
            reuseItems: true
            Accessible.name: qsTr("Conversations")
            ScrollBar.vertical: ScrollBar {}
            delegate: ItemDelegate {
                id: row
                required property var conversationId
                required property string title
                width: ListView.view.width
                highlighted: conversationId === chat.currentConversation
                text: title
                Accessible.name: qsTr("Conversation %1").arg(title)
                background: Rectangle {
                    color: row.highlighted ? root.theme.highlight : (row.hovered ? Qt.lighter(root.theme.panel, 1.05) : "transparent")
                    radius: 6
                }
                contentItem: Label {
                    text: row.title
                    elide: Text.ElideRight
                    color: root.theme.text
                    verticalAlignment: Text.AlignVCenter
                }
                onClicked: chat.openConversation(conversationId)
                TapHandler {
                    acceptedButtons: Qt.RightButton
                    onTapped: {
                        root.menuConversation = row.conversationId
                        renameField.text = row.title
                        menu.popup()
                    }
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
        MenuItem { text: qsTr("Rename…"); onTriggered: renameDialog.open() }
        MenuItem { text: qsTr("Export as Markdown…"); onTriggered: { exportDialog.format = "md"; exportDialog.open() } }
        MenuItem { text: qsTr("Export as JSON…"); onTriggered: { exportDialog.format = "json"; exportDialog.open() } }
        MenuItem { text: qsTr("Delete"); onTriggered: chat.deleteConversation(root.menuConversation) }
    }

    Dialog {
        id: renameDialog
        title: qsTr("Rename conversation")
        modal: true
        parent: Overlay.overlay
        anchors.centerIn: parent
        standardButtons: Dialog.Ok | Dialog.Cancel
        TextField {
            id: renameField
            width: 300
            Accessible.name: qsTr("New title")
        }
        onAccepted: chat.renameConversation(root.menuConversation, renameField.text)
    }

    FileDialog {
        id: exportDialog
        property string format: "md"
        fileMode: FileDialog.SaveFile
        title: qsTr("Export conversation")
        acceptLabel: qsTr("Save")  // Qt's own dialog says "Open" in every mode otherwise
        nameFilters: format === "json" ? [qsTr("JSON (*.json)")] : [qsTr("Markdown (*.md)")]
        onAccepted: chat.exportConversation(root.menuConversation, format, selectedFile)
    }
}
