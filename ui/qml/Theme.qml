import QtQuick

// The app's colours; `dark` switches the whole set.
//
// Every colour is either a background, or drawn on the backgrounds named in
// `textPairs` (text: WCAG AA needs 4.5:1) or `controlPairs` (a control's
// boundary, a focus ring, a chart line: 3:1). tests/app/desktop/
// theme_contrast_test.cpp instantiates this file in light and dark and checks
// every pair with WCAG's relative luminance; it also fails on a colour that is
// in no pair, so a new colour must say where it is drawn. `border` is the one
// decorative colour (separators between areas, not a control's edge).
QtObject {
    property bool dark: false
    // Backgrounds
    readonly property color window: dark ? "#1e1f22" : "#f6f6f4"
    readonly property color panel: dark ? "#2b2d31" : "#ebebe8"
    readonly property color userBubble: dark ? "#33415e" : "#dde6fb"
    readonly property color assistantBubble: dark ? "#2b2d31" : "#ffffff"
    readonly property color highlight: dark ? "#3a3d44" : "#d9dfeb"
    readonly property color codeBackground: dark ? "#232428" : "#f3f3f0"
    readonly property color errorBackground: dark ? "#4a2330" : "#fbe4e2"
    // Text
    readonly property color text: dark ? "#e8e8e6" : "#1d1d1b"
    readonly property color mutedText: dark ? "#b1b3b8" : "#5f605c"
    readonly property color accent: dark ? "#8fb0f8" : "#2a52c4"      // links, highlighted buttons
    // Text on accent-coloured buttons. (Not "onAccent": QML reads a name "on" + capital as a signal
    // handler, and `theme.onAccent` was always black — 3.1:1 on the light accent.)
    readonly property color textOnAccent: dark ? "#10131a" : "#ffffff"
    readonly property color error: dark ? "#f38ba8" : "#b3261e"
    // Controls and graphics
    readonly property color controlBorder: dark ? "#80838a" : "#80817b" // text fields, check boxes, slider tracks
    readonly property color focusRing: accent                           // FocusRing.qml
    readonly property color chartMemory: accent
    readonly property color chartIo: dark ? "#e0af68" : "#c0670c"
    // Decorative only (exempt from contrast): lines between areas.
    readonly property color border: dark ? "#3c3f45" : "#d4d4cf"

    readonly property var textPairs: [
        { fg: "text", on: ["window", "panel", "userBubble", "assistantBubble", "highlight", "codeBackground", "errorBackground"] },
        { fg: "mutedText", on: ["window", "panel", "userBubble", "assistantBubble", "highlight", "codeBackground"] },
        { fg: "accent", on: ["window", "panel", "userBubble", "assistantBubble", "highlight", "codeBackground"] },
        { fg: "textOnAccent", on: ["accent"] },
        { fg: "error", on: ["window", "panel", "assistantBubble", "errorBackground"] }
    ]
    readonly property var controlPairs: [
        { fg: "controlBorder", on: ["window", "panel", "assistantBubble"] },
        { fg: "focusRing", on: ["window", "panel", "userBubble", "assistantBubble", "highlight", "codeBackground"] },
        { fg: "accent", on: ["window", "panel", "assistantBubble"] },
        { fg: "chartMemory", on: ["assistantBubble", "panel"] },
        { fg: "chartIo", on: ["assistantBubble", "panel"] }
    ]
    readonly property var decorative: ["border"]
}
