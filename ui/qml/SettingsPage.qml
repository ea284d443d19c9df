import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// The settings page. Everything persists (`settings`, AppSettings); with
// "for this model only" on, the values belong to the loaded model. Sampling,
// the system prompt and the theme apply at once; the engine settings (mode,
// DRAM budget, sparse window, threads, context) are staged here and applied
// together with "Apply", which restarts the engine — safely, even mid-reply.
// The DRAM budget shows how the planner would split it (`planner`: flash
// mode's split, or sparse mode's own), for the staged threads, context, mode
// and sparse settings; the slider never offers less than that minimum.
Item {
    id: root
    objectName: "settingsPage"
    property QtObject theme

    // The staged engine settings.
    property string stagedMode: "dense"
    property real stagedBudget: 0
    property int stagedWindow: 4
    property string stagedPredictor: "gate"
    property int stagedThreads: 0
    property int stagedContext: 0
    readonly property bool dirty: stagedMode !== settings.mode || stagedBudget !== settings.dramBudget
                                  || stagedWindow !== settings.sparseWindow || stagedThreads !== settings.threads
                                  || stagedPredictor !== settings.sparsePredictor
                                  || stagedContext !== settings.contextLength
    readonly property bool budgeted: stagedMode === "flash" || stagedMode === "sparse"
    readonly property bool sparse: stagedMode === "sparse"
    readonly property real minimumBudget: planner.isPack ? planner.minimumBytes(stagedThreads, stagedContext, stagedMode,
                                                                                stagedWindow, stagedPredictor) : 0
    readonly property real maximumBudget: Math.max(planner.machineBytes, minimumBudget)
    readonly property var plan: planner.isPack ? planner.plan(stagedBudget, stagedThreads, stagedContext, stagedMode,
                                                              stagedWindow, stagedPredictor) : ({})
    // A budget under the minimum could not load: never offer or keep one.
    onMinimumBudgetChanged: if (stagedBudget > 0 && stagedBudget < minimumBudget) stagedBudget = minimumBudget

    function loadStaged() {
        stagedMode = settings.mode
        stagedBudget = settings.dramBudget
        stagedWindow = settings.sparseWindow
        stagedPredictor = settings.sparsePredictor
        stagedThreads = settings.threads
        stagedContext = settings.contextLength
    }
    // The budget last: each change is checked against the minimum of the settings in
    // effect (bindSettings raises a budget below it), so those must be the new ones.
    function applyStaged() {
        settings.mode = stagedMode
        settings.sparseWindow = stagedWindow
        settings.sparsePredictor = stagedPredictor
        settings.threads = stagedThreads
        settings.contextLength = stagedContext
        settings.dramBudget = stagedBudget > 0 ? Math.max(stagedBudget, minimumBudget) : stagedBudget
    }
    function size(bytes) { return planner.formatSize(bytes) }
    function scrollToEnd() { scroller.contentItem.contentY = Math.max(0, scroller.contentHeight - scroller.height) }
    function scrollToTop() { scroller.contentItem.contentY = 0 }

    Component.onCompleted: loadStaged()
    onVisibleChanged: if (visible) loadStaged()
    Connections {
        target: settings
        function onModelPathChanged() { root.loadStaged() }
    }

    component Caption: Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: root.theme.mutedText
        font.pixelSize: 12
    }
    component Heading: Label {
        Layout.topMargin: 14
        Layout.columnSpan: 2
        font.bold: true
        font.pixelSize: 16
        color: root.theme.text
    }
    component Name: Label {
        color: root.theme.text
        Layout.alignment: Qt.AlignVCenter
    }
    component Spacer: Item { width: 1; height: 1 }
    // A slider with its value shown on the right.
    component ValueSlider: RowLayout {
        id: valueSlider
        property alias from: slider.from
        property alias to: slider.to
        property alias stepSize: slider.stepSize
        property real value
        property int decimals: 2
        property string accessibleName
        signal moved(real value)
        Layout.fillWidth: true
        Slider {
            id: slider
            Layout.fillWidth: true
            value: valueSlider.value
            onMoved: valueSlider.moved(value)
            Accessible.name: valueSlider.accessibleName
        }
        Label {
            text: slider.value.toFixed(valueSlider.decimals)
            color: root.theme.text
            Layout.preferredWidth: 44
            horizontalAlignment: Text.AlignRight
        }
    }

    // The engine settings' Apply / Revert, pinned under the page while there is
    // something to apply, so they are never scrolled out of sight or under the status bar.
    Rectangle {
        id: applyBar
        objectName: "applyBar"
        visible: root.dirty
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.bottom: parent.bottom
        height: visible ? applyRow.implicitHeight + 16 : 0
        color: root.theme.panel
        Rectangle { width: parent.width; height: 1; color: root.theme.border }
        RowLayout {
            id: applyRow
            anchors.fill: parent
            anchors.leftMargin: 20
            anchors.rightMargin: 20
            anchors.topMargin: 8
            anchors.bottomMargin: 8
            spacing: 8
            Label {
                Layout.fillWidth: true
                text: qsTr("The engine settings changed; applying restarts the engine.")
                color: root.theme.text
                elide: Text.ElideRight
            }
            Button {
                objectName: "applyEngine"
                text: qsTr("Apply and restart the engine")
                highlighted: true
                // Not with settings the planner refuses (e.g. a predictor the pack lacks): the load would fail.
                enabled: root.dirty && !(root.budgeted && planner.isPack && root.plan.ok !== true)
                Accessible.name: qsTr("Apply the engine settings")
                onClicked: root.applyStaged()
            }
            Button {
                text: qsTr("Revert")
                Accessible.name: qsTr("Revert the engine settings")
                onClicked: root.loadStaged()
            }
        }
    }

    ScrollView {
        id: scroller
        anchors.left: parent.left
        anchors.right: parent.right
        anchors.top: parent.top
        anchors.bottom: applyBar.top
        contentWidth: availableWidth
        // The grid plus a margin, so the last controls never touch the status bar.
        contentHeight: grid.implicitHeight + 48
        clip: true
        // Always shown: the page is longer than most windows, and the bar says so.
        ScrollBar.vertical.policy: ScrollBar.AlwaysOn

        GridLayout {
            id: grid
            x: Math.max(20, (scroller.availableWidth - width) / 2)
            width: Math.min(scroller.availableWidth - 40, 680)
            columns: 2
            columnSpacing: 16
            rowSpacing: 8

            Label {
                Layout.columnSpan: 2
                Layout.topMargin: 16
                text: qsTr("Settings")
                font.pixelSize: 24
                font.bold: true
                color: root.theme.text
            }
            Switch {
                objectName: "perModelSwitch"
                Layout.columnSpan: 2
                enabled: chat.modelLoaded
                checked: settings.perModel
                text: chat.modelLoaded ? qsTr("For %1 only").arg(chat.modelName) : qsTr("For this model only (load a model first)")
                Accessible.name: qsTr("Keep these settings for this model only")
                onToggled: { settings.perModel = checked; root.loadStaged() }
            }
            Caption {
                Layout.columnSpan: 2
                text: settings.perModel ? qsTr("These values are remembered for this model and used whenever it is loaded.")
                                        : qsTr("These values apply to every model that has no settings of its own.")
            }

            // --- engine -----------------------------------------------------
            Heading { text: qsTr("Engine") }
            Name { text: qsTr("Mode") }
            ComboBox {
                id: modeBox
                objectName: "modeBox"
                Layout.fillWidth: true
                model: planner.supportedModes
                currentIndex: Math.max(0, planner.supportedModes.indexOf(root.stagedMode))
                onActivated: (index) => root.stagedMode = planner.supportedModes[index]
                Accessible.name: qsTr("Engine mode")
            }
            Spacer {}
            Caption {
                text: ({ dense: qsTr("dense: every weight is read into memory."),
                         mmap: qsTr("mmap: the operating system pages weights in from the file."),
                         flash: qsTr("flash: a packed model runs under the DRAM budget; the rest streams from the SSD."),
                         sparse: qsTr("sparse: like flash, but only the neurons a token needs are read.") })[root.stagedMode] || ""
            }

            Name { text: qsTr("DRAM budget") }
            RowLayout {
                Layout.fillWidth: true
                enabled: root.budgeted && planner.isPack
                Slider {
                    id: budget
                    objectName: "budgetSlider"
                    Layout.fillWidth: true
                    from: root.minimumBudget
                    to: root.maximumBudget
                    stepSize: 16 * 1048576
                    value: root.stagedBudget > 0 ? root.stagedBudget : root.maximumBudget
                    onMoved: root.stagedBudget = value
                    Accessible.name: qsTr("DRAM budget")
                    Accessible.description: qsTr("From the model's minimum to this machine's memory")
                }
                Label {
                    text: root.stagedBudget > 0 ? root.size(root.stagedBudget) : qsTr("no limit")
                    color: root.theme.text
                    Layout.preferredWidth: 76
                    horizontalAlignment: Text.AlignRight
                }
            }
            Spacer {}
            Caption {
                text: !planner.isPack ? qsTr("The DRAM budget applies to packed models in flash or sparse mode; add the model in Models to pack it.")
                      : root.minimumBudget <= 0 ? qsTr("The minimum is unknown for these settings (see below).")
                      : qsTr("From this model's minimum, %1 (%2), to this machine's memory, %3.")
                            .arg(root.size(root.minimumBudget))
                            .arg(planner.describeSettings(root.plan.threads || 0, root.plan.context || 0, root.plan.mode || "flash"))
                            .arg(root.size(planner.machineBytes))
            }

            // How the budget is split, as the planner would do it.
            Spacer { visible: planner.isPack }
            ColumnLayout {
                objectName: "budgetSplit"
                visible: planner.isPack
                Layout.fillWidth: true
                spacing: 3
                // One bar, a segment per item.
                Row {
                    Layout.fillWidth: true
                    Layout.preferredHeight: 12
                    visible: root.plan.ok === true
                    Repeater {
                        model: root.plan.ok ? root.plan.items : []
                        Rectangle {
                            required property var modelData
                            required property int index
                            height: 12
                            width: parent.width * modelData.bytes / Math.max(1, root.plan.totalBytes)
                            color: Qt.hsla((0.6 + index * 0.13) % 1, 0.55, root.theme.dark ? 0.6 : 0.5, 1)
                        }
                    }
                }
                Repeater {
                    model: root.plan.ok ? root.plan.items : []
                    RowLayout {
                        required property var modelData
                        required property int index
                        Layout.fillWidth: true
                        spacing: 8
                        Rectangle {
                            width: 10; height: 10
                            color: Qt.hsla((0.6 + index * 0.13) % 1, 0.55, root.theme.dark ? 0.6 : 0.5, 1)
                        }
                        Label { Layout.fillWidth: true; text: modelData.what; color: root.theme.text; font.pixelSize: 12 }
                        Label { text: modelData.text; color: root.theme.text; font.pixelSize: 12 }
                    }
                }
                Label {
                    Layout.fillWidth: true
                    visible: root.plan.ok === true
                    text: qsTr("Planned in all: %1").arg(root.size(root.plan.totalBytes || 0))
                    color: root.theme.text
                    font.bold: true
                    font.pixelSize: 12
                }
                Caption {
                    objectName: "speedText"
                    text: root.plan.ok ? root.plan.speedText : (root.plan.error || "")
                    color: root.plan.ok ? root.theme.mutedText : root.theme.error
                }
            }

            Name { text: qsTr("Predictor"); visible: root.sparse }
            ComboBox {
                id: predictorBox
                objectName: "predictorBox"
                visible: root.sparse
                Layout.fillWidth: true
                readonly property var values: ["gate", "lowrank"]
                model: [qsTr("gate (exact)"), qsTr("lowrank (small)")]
                currentIndex: Math.max(0, values.indexOf(root.stagedPredictor))
                onActivated: (index) => root.stagedPredictor = values[index]
                Accessible.name: qsTr("Sparse predictor")
            }
            Spacer { visible: root.sparse }
            Caption {
                visible: root.sparse
                text: root.stagedPredictor === "lowrank"
                      ? qsTr("lowrank: a small learned guess of the active neurons; little DRAM, may miss a few (the pack needs predictor tensors).")
                      : qsTr("gate: computes each layer's gate from a copy in DRAM and loads exactly the neurons it activates.")
            }

            Name { text: qsTr("Sparse window"); visible: root.sparse }
            SpinBox {
                objectName: "sparseWindowBox"
                visible: root.sparse
                enabled: planner.sparseWindowSupported
                from: 0; to: 64
                editable: true
                value: root.stagedWindow
                onValueModified: root.stagedWindow = value
                Accessible.name: qsTr("Sparse window in tokens")
            }
            Spacer { visible: root.sparse }
            Caption {
                visible: root.sparse
                text: planner.sparseWindowSupported ? qsTr("Neurons used by any of the last N tokens stay in DRAM.")
                                                    : qsTr("This build's engine has no sparse window setting yet.")
            }

            Name { text: qsTr("Threads") }
            SpinBox {
                from: 0; to: 256
                editable: true
                value: root.stagedThreads
                onValueModified: root.stagedThreads = value
                Accessible.name: qsTr("Threads, 0 for all cores")
            }
            Name { text: qsTr("Context (tokens)") }
            SpinBox {
                from: 0; to: 131072
                stepSize: 256
                editable: true
                value: root.stagedContext
                onValueModified: root.stagedContext = value
                Accessible.name: qsTr("Context length in tokens, 0 for the model's default")
            }
            Spacer {}
            Caption {
                text: qsTr("0 means automatic. Engine changes wait for “Apply” in the bar at the bottom, which " +
                           "restarts the engine, stopping a reply in progress.")
            }

            // --- sampling ---------------------------------------------------
            Heading { text: qsTr("Sampling") }
            Name { text: qsTr("Temperature") }
            ValueSlider {
                from: 0; to: 2; stepSize: 0.05
                value: settings.temperature
                onMoved: (v) => settings.temperature = v
                accessibleName: qsTr("Temperature")
            }
            Name { text: qsTr("Top-p") }
            ValueSlider {
                from: 0.05; to: 1; stepSize: 0.05
                value: settings.topP
                onMoved: (v) => settings.topP = v
                accessibleName: qsTr("Top-p")
            }
            Name { text: qsTr("Top-k") }
            SpinBox {
                from: 0; to: 1000
                editable: true
                value: settings.topK
                onValueModified: settings.topK = value
                Accessible.name: qsTr("Top-k, 0 for off")
            }
            Name { text: qsTr("Min-p") }
            ValueSlider {
                from: 0; to: 0.5; stepSize: 0.01
                value: settings.minP
                onMoved: (v) => settings.minP = v
                accessibleName: qsTr("Min-p")
            }
            Name { text: qsTr("Repeat penalty") }
            ValueSlider {
                from: 1; to: 2; stepSize: 0.05
                value: settings.repeatPenalty
                onMoved: (v) => settings.repeatPenalty = v
                accessibleName: qsTr("Repeat penalty, 1 for off")
            }
            Name { text: qsTr("Reply length") }
            SpinBox {
                from: 16; to: 32768; stepSize: 64
                editable: true
                value: settings.maxTokens
                onValueModified: settings.maxTokens = value
                Accessible.name: qsTr("Most tokens per reply")
            }

            // --- conversation and look ----------------------------------------
            Heading { text: qsTr("Conversation") }
            Name { text: qsTr("System prompt"); Layout.alignment: Qt.AlignTop }
            TextArea {
                Layout.fillWidth: true
                Layout.preferredHeight: 70
                wrapMode: TextEdit.Wrap
                placeholderText: qsTr("Optional instructions for every chat")
                color: root.theme.text
                background: Rectangle {
                    color: root.theme.assistantBubble
                    border.color: parent.activeFocus ? root.theme.accent : root.theme.border
                    radius: 6
                }
                text: settings.systemPrompt
                onEditingFinished: settings.systemPrompt = text
                Accessible.name: qsTr("System prompt")
            }
            Name { text: qsTr("Theme") }
            ComboBox {
                model: [qsTr("Light"), qsTr("Dark"), qsTr("Follow system")]
                readonly property var values: ["light", "dark", "system"]
                currentIndex: Math.max(0, values.indexOf(settings.theme))
                onActivated: (index) => settings.theme = values[index]
                Accessible.name: qsTr("Theme")
            }
            Spacer {}
            Button {
                text: qsTr("Reset to defaults")
                Accessible.name: qsTr("Reset the settings to their defaults")
                onClicked: { settings.resetToDefaults(); root.loadStaged() }
            }
        }
    }
}
