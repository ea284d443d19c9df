import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A short note at the bottom of the window ("Deleted “Trip plans”  [Undo]",
// "Saved to /home/me/Documents/Trip plans.md") that goes away by itself.
// show(text, actionText, milliseconds): an empty actionText shows no button;
// the button emits actionTriggered() and closes the note.
//
// A plain item over the window's content, not a Popup: in Qt 6.4 an open
// Popup, even a non-modal one, keeps the window's shortcuts (Ctrl+1…3, Ctrl+N)
// from firing, so for the seconds a note showed the keyboard seemed dead.
Rectangle {
    id: root
    property Theme theme
    property alias text: message.text
    property alias actionText: action.text
    readonly property bool opened: visible
    signal actionTriggered()

    function show(text, actionText, milliseconds) {
        message.text = text
        action.text = actionText || ""
        timer.interval = milliseconds > 0 ? milliseconds : 5000
        visible = true
        timer.restart()
    }
    function close() {
        timer.stop()
        visible = false
    }

    // Over everything in the window (dialogs and menus live above, in the overlay).
    parent: Window.window ? Window.window.contentItem : null
    z: 1000
    visible: false
    width: Math.min(content.implicitWidth + 20, parent ? parent.width - 40 : 560)
    height: content.implicitHeight + 20
    x: parent ? (parent.width - width) / 2 : 0
    // Above the message box and the status bar, not over them.
    y: parent ? parent.height - height - 120 : 0
    radius: 8
    color: root.theme ? root.theme.text : "#1d1d1b"

    RowLayout {
        id: content
        anchors.fill: parent
        anchors.margins: 10
        spacing: 12
        Label {
            id: message
            objectName: "toastText"
            Layout.fillWidth: true
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
