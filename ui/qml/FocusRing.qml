import QtQuick

// A keyboard focus ring for a control whose Basic-style look shows none (or
// only a colour change): put `FocusRing {}` inside the control. It draws a
// 2-pixel ring just outside the control's edge while the control has
// keyboard ("visual") focus — reached with Tab, not clicked — or, for an item
// without `visualFocus` (TextArea, TextEdit), while it has active focus.
//
// Qt 6.4 Basic style, keyboard focus as shipped: Button (not flat, not
// highlighted), ComboBox, Slider, CheckBox, RadioButton, Switch, SpinBox and
// TextField draw a highlight-coloured border; flat or highlighted Buttons,
// ToolButton and TabButton only recolour their text (or nothing), ItemDelegate
// tints its background by 15 %, and TextArea shows nothing. Those need this.
Rectangle {
    id: ring
    // The control it surrounds (its parent by default).
    property Item target: parent
    readonly property var control: target  // visualFocus where it is a Control (TextArea has none)
    // Theme.qml's focusRing (3:1 on every background, theme_contrast_test); the palette's highlight otherwise.
    property Theme theme
    // Whether the ring shows: keyboard focus where the item knows it, else active focus.
    readonly property bool shown: !!target && target.visible
                                  && (control.visualFocus !== undefined ? control.visualFocus : target.activeFocus)
    // Space between the control's edge and the ring; negative draws it inside
    // (for delegates in a clipping list).
    property real gap: 1

    x: -gap - border.width
    y: -gap - border.width
    z: 100
    width: target ? target.width + 2 * (gap + border.width) : 0
    height: target ? target.height + 2 * (gap + border.width) : 0
    visible: shown
    color: "transparent"
    radius: 4
    border.width: 2
    border.color: theme ? theme.focusRing : (target && target.palette ? target.palette.highlight : "#2a52c4")
    Accessible.ignored: true
}
