import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A short note at the bottom of the window ("Deleted “Trip plans”  [Undo]",
// "Saved to /home/me/Documents/Trip plans.md") that goes away by itself.
// show(text, actionText, milliseconds): an empty actionText shows no button;
// the button emits actionTriggered() and closes the note.
Popup {
    id: root
    property Theme theme
    property alias text: message.text
    property alias actionText: action.text
    signal actionTriggered()

    function show(text, actionText, milliseconds) {
        message.text = text
        action.text = actionText || ""
        timer.interval = milliseconds > 0 ? milliseconds : 5000
        open()
        timer.restart()
    }

    parent: Overlay.overlay
    width: Math.min(implicitWidth, parent ? parent.width - 40 : 560)
    x: parent ? (parent.width - width) / 2 : 0
    // Above the message box and the status bar, not over them.
    y: parent ? parent.height - height - 120 : 0
    padding: 10
    modal: false
    focus: false
    closePolicy: Popup.CloseOnEscape

    background: Rectangle {
        radius: 8
        color: root.theme ? root.theme.text : "#1d1d1b"
    }
    // The popup's one content child (not `contentItem:`, which is deferred: an id there makes it immediate).
    RowLayout {
        anchors.fill: parent
        spacing: 12
        Label {
            id: message
            objectName: "toastText"
            Layout.maximumWidth: 520
            wrapMode: Text.WrapAnywhere
            Accessible.role: Accessible.AlertMessage
            Accessible.name: text
            color: root.theme ? root.theme.window : "#ffffff"
        }
        Button {
            id: action
            objectName: "toastAction"
            visible: text.length > 0
            flat: true
            palette.buttonText: root.theme ? root.theme.window : "#ffffff"
            palette.windowText: root.theme ? root.theme.window : "#ffffff"  // a flat button's text
            font.bold: true
            Accessible.name: text
            onClicked: {
                root.close()
                root.actionTriggered()
            }
        }
    }
    Timer {
        id: timer
        onTriggered: root.close()
    }
}
