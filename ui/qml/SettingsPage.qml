import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Settings, persisted by Main.qml's `prefs`. Sampling and the system prompt
// apply to the next reply; threads and context restart the engine (even
// mid-reply), so they wait for "Apply".
Dialog {
    id: root
    property QtObject theme
    property QtObject prefs
    title: qsTr("Settings")
    modal: true
    // Own header and footer: the default ones keep the light palette in dark mode (Qt 6.4).
    header: Label {
        text: root.title
        font.bold: true
        font.pixelSize: 17
        color: root.theme.text
        padding: 14
        background: Rectangle { color: root.theme.window }
    }
    footer: Rectangle {
        implicitHeight: closeButton.implicitHeight + 20
        color: root.theme.window
        Button {
            id: closeButton
            anchors.right: parent.right
            anchors.verticalCenter: parent.verticalCenter
            anchors.rightMargin: 12
            text: qsTr("Close")
            Accessible.name: qsTr("Close settings")
            onClicked: root.close()
        }
    }
    // Popups in Qt 6.4 do not follow the window's palette when it changes: set every role here.
    palette.window: theme.window
    palette.windowText: theme.text
    palette.base: theme.assistantBubble
    palette.text: theme.text
    palette.button: theme.panel
    palette.buttonText: theme.text
    palette.highlight: theme.accent
    palette.placeholderText: theme.mutedText
    palette.mid: theme.border
    palette.midlight: theme.border
    palette.light: theme.panel
    palette.dark: theme.accent
    palette.brightText: "#ffffff"

    component Caption: Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: root.theme.mutedText
        font.pixelSize: 12
    }
    component Heading: Label {
        Layout.topMargin: 10
        font.bold: true
        font.pixelSize: 15
        color: root.theme.text
    }

    onOpened: {
        threadsBox.value = prefs.threads
        contextBox.value = prefs.contextLength
    }

    ScrollView {
        id: scroller
        anchors.fill: parent
        contentWidth: availableWidth
        clip: true
        ScrollBar.vertical.policy: ScrollBar.AlwaysOn  // shows there is more below

        GridLayout {
            width: scroller.availableWidth - 12
            columns: 2
            columnSpacing: 14
            rowSpacing: 6

            Heading { text: qsTr("Memory"); Layout.columnSpan: 2 }
            Label { text: qsTr("DRAM budget"); color: root.theme.text }
            RowLayout {
                Layout.fillWidth: true
                Slider {
                    id: budget
                    Layout.fillWidth: true
                    from: 1
                    to: Math.max(2, chat.machineMemoryGiB)
                    stepSize: 0.5
                    value: root.prefs.dramBudgetGiB
                    onMoved: root.prefs.dramBudgetGiB = value
                    Accessible.name: qsTr("DRAM budget in gigabytes")
                }
                Label {
                    text: qsTr("%1 GB").arg(budget.value.toFixed(1))
                    color: root.theme.text
                    Layout.preferredWidth: 56
                }
            }
            Item { width: 1; height: 1 }
            Caption {
                text: qsTr("How much memory Sieve may use for a model in flash mode (this machine has %1 GB).")
                          .arg(chat.machineMemoryGiB.toFixed(1))
            }

            Heading { text: qsTr("Engine"); Layout.columnSpan: 2 }
            Label { text: qsTr("Threads"); color: root.theme.text }
            SpinBox {
                id: threadsBox
                from: 0
                to: 256
                editable: true
                Accessible.name: qsTr("Threads, 0 for all cores")
            }
            Label { text: qsTr("Context (tokens)"); color: root.theme.text }
            SpinBox {
                id: contextBox
                from: 0
                to: 131072
                stepSize: 256
                editable: true
                Accessible.name: qsTr("Context length in tokens, 0 for the model's default")
            }
            Item { width: 1; height: 1 }
            Caption { text: qsTr("0 means automatic. Applying restarts the engine, stopping a reply in progress.") }
            Item { width: 1; height: 1 }
            Button {
                text: qsTr("Apply")
                enabled: threadsBox.value !== root.prefs.threads || contextBox.value !== root.prefs.contextLength
                Accessible.name: qsTr("Apply the engine settings")
                onClicked: {
                    root.prefs.threads = threadsBox.value
                    root.prefs.contextLength = contextBox.value
                }
            }

            Heading { text: qsTr("Sampling"); Layout.columnSpan: 2 }
            Label { text: qsTr("Temperature"); color: root.theme.text }
            RowLayout {
                Layout.fillWidth: true
                Slider {
                    id: temperature
                    Layout.fillWidth: true
                    from: 0; to: 2; stepSize: 0.05
                    value: root.prefs.temperature
                    onMoved: root.prefs.temperature = value
                    Accessible.name: qsTr("Temperature")
                }
                Label { text: temperature.value.toFixed(2); color: root.theme.text; Layout.preferredWidth: 56 }
            }
            Label { text: qsTr("Top-p"); color: root.theme.text }
            RowLayout {
                Layout.fillWidth: true
                Slider {
                    id: topP
                    Layout.fillWidth: true
                    from: 0.05; to: 1; stepSize: 0.05
                    value: root.prefs.topP
                    onMoved: root.prefs.topP = value
                    Accessible.name: qsTr("Top-p")
                }
                Label { text: topP.value.toFixed(2); color: root.theme.text; Layout.preferredWidth: 56 }
            }
            Label { text: qsTr("Top-k"); color: root.theme.text }
            SpinBox {
                from: 0; to: 1000
                editable: true
                value: root.prefs.topK
                onValueModified: root.prefs.topK = value
                Accessible.name: qsTr("Top-k, 0 for off")
            }
            Label { text: qsTr("Min-p"); color: root.theme.text }
            RowLayout {
                Layout.fillWidth: true
                Slider {
                    id: minP
                    Layout.fillWidth: true
                    from: 0; to: 0.5; stepSize: 0.01
                    value: root.prefs.minP
                    onMoved: root.prefs.minP = value
                    Accessible.name: qsTr("Min-p")
                }
                Label { text: minP.value.toFixed(2); color: root.theme.text; Layout.preferredWidth: 56 }
            }
            Label { text: qsTr("Reply length"); color: root.theme.text }
            SpinBox {
                from: 16; to: 32768; stepSize: 64
                editable: true
                value: root.prefs.maxTokens
                onValueModified: root.prefs.maxTokens = value
                Accessible.name: qsTr("Most tokens per reply")
            }

            Heading { text: qsTr("Conversation"); Layout.columnSpan: 2 }
            Label { text: qsTr("System prompt"); color: root.theme.text; Layout.alignment: Qt.AlignTop }
            TextArea {
                Layout.fillWidth: true
                Layout.preferredHeight: 70
                wrapMode: TextEdit.Wrap
                placeholderText: qsTr("Optional instructions for every chat")
                text: root.prefs.systemPrompt
                onEditingFinished: root.prefs.systemPrompt = text
                Accessible.name: qsTr("System prompt")
            }
            Label { text: qsTr("Theme"); color: root.theme.text }
            ComboBox {
                model: [qsTr("Light"), qsTr("Dark"), qsTr("Follow system")]
                readonly property var values: ["light", "dark", "system"]
                currentIndex: Math.max(0, values.indexOf(root.prefs.theme))
                onActivated: (index) => root.prefs.theme = values[index]
                Accessible.name: qsTr("Theme")
            }
        }
    }
}
