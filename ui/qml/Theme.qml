import QtQuick

// The app's colours; `dark` switches the whole set.
QtObject {
    property bool dark: false
    readonly property color window: dark ? "#1e1f22" : "#f6f6f4"
    readonly property color panel: dark ? "#2b2d31" : "#ebebe8"
    readonly property color text: dark ? "#e8e8e6" : "#1d1d1b"
    readonly property color mutedText: dark ? "#a4a6ab" : "#5f605c"
    readonly property color accent: dark ? "#7aa2f7" : "#2f5bd3"
    readonly property color userBubble: dark ? "#33415e" : "#dde6fb"
    readonly property color assistantBubble: dark ? "#2b2d31" : "#ffffff"
    readonly property color border: dark ? "#3c3f45" : "#d4d4cf"
    readonly property color highlight: dark ? "#3a3d44" : "#d9dfeb"
    readonly property color onAccent: dark ? "#10131a" : "#ffffff"  // text on accent-coloured buttons
    readonly property color codeBackground: dark ? "#232428" : "#f3f3f0"
    readonly property color chartMemory: dark ? "#7aa2f7" : "#2f5bd3"
    readonly property color chartIo: dark ? "#e0af68" : "#c0670c"
    readonly property color error: dark ? "#f38ba8" : "#b3261e"
}
