import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// The settings page. Everything persists (`settings`, AppSettings); with
// "for this model only" on, the engine values belong to the loaded model. The
// system prompt and sampling are presets (PresetsSettings.qml, saved in the
// history). The theme applies at once; the engine settings (mode,
// DRAM budget, sparse window, threads, context) are staged here and applied
// together with "Apply", which restarts the engine — safely, even mid-reply.
// The DRAM budget shows how the planner would split it (`planner`: flash
// mode's split, or sparse mode's own), for the staged threads, context, mode
// and sparse settings; the slider never offers less than that minimum. The
// default mode is auto (the engine picks from the model and the budget, shown
// in one line) and the default budget 60% of the memory available now; the
// budget can be typed ("1.5G", "900M", "50%"). Measure disk runs the disk
// probe in the background, so the expected speed needs no terminal.
// objectNames used by click-through tests: modeSelector, budgetSlider,
// budgetField, applyButton, measureDiskButton.
Item {
    id: root
    objectName: "settingsPage"
    property Theme theme

    // The staged engine settings.
    property string stagedMode: "auto"
    readonly property var modes: App.planner.supportedModes  // a JS array (QStringList), searched with indexOf
    property real stagedBudget: 0   // 0: the default, 60% of the memory available when the engine loads
    property int stagedWindow: 4
    property string stagedPredictor: "gate"
    property int stagedThreads: 0
    property int stagedContext: 0
    readonly property bool dirty: stagedMode !== App.settings.mode || stagedBudget !== App.settings.dramBudget
                                  || stagedWindow !== App.settings.sparseWindow || stagedThreads !== App.settings.threads
                                  || stagedPredictor !== App.settings.sparsePredictor
                                  || stagedContext !== App.settings.contextLength
    readonly property bool budgeted: stagedMode === "flash" || stagedMode === "sparse" || stagedMode === "auto"
    readonly property bool sparse: stagedMode === "sparse"
    readonly property bool hasModel: App.planner.modelPath !== ""
    readonly property string planMode: sparse ? "sparse" : "flash"
    readonly property real minimumBudget: App.planner.budgetable ? App.planner.minimumBytes(stagedThreads, stagedContext, planMode,
                                                                                stagedWindow, stagedPredictor) : 0
    // The budget the engine would get: the staged one, or the default.
    readonly property real effectiveBudget: stagedBudget > 0 ? stagedBudget : App.planner.defaultBudget
    // What auto mode decides (the engine's own decision), and the model's size in memory.
    readonly property var facts: hasModel ? App.planner.autoChoice(0, stagedThreads, stagedContext) : ({})
    readonly property var choice: hasModel && stagedMode === "auto"
                                  ? App.planner.autoChoice(effectiveBudget, stagedThreads, stagedContext) : ({})
    // The slider: the useful range (minimum .. everything in memory) fills most of it, then a
    // logarithmic tail up to this machine's memory (MemoryPlanner::budgetAt).
    readonly property real lowBudget: minimumBudget > 0 ? minimumBudget : 64 * 1048576
    readonly property real fullBudget: sparse && App.planner.budgetable
                                       ? (App.planner.plan(0, stagedThreads, stagedContext, "sparse", stagedWindow,
                                                       stagedPredictor).totalBytes || 0)
                                       : (facts.everythingBytes || 0)
    readonly property real maximumBudget: Math.max(App.planner.machineBytes, fullBudget, lowBudget)
    readonly property var marks: fullBudget > lowBudget
        ? [{ name: qsTr("minimum"), bytes: lowBudget }, { name: qsTr("half"), bytes: (lowBudget + fullBudget) / 2 },
           { name: qsTr("all in memory"), bytes: fullBudget }]
        : [{ name: qsTr("minimum"), bytes: lowBudget }]
    readonly property var plan: (App.planner.diskMBps, App.planner.budgetable
                                 ? App.planner.plan(effectiveBudget, stagedThreads, stagedContext, planMode,
                                                stagedWindow, stagedPredictor) : ({}))
    property string budgetError: ""
    // A budget under the minimum could not load: never offer or keep one.
    onMinimumBudgetChanged: if (stagedBudget > 0 && stagedBudget < minimumBudget) stagedBudget = minimumBudget

    function positionOf(bytes) { return App.planner.positionOf(bytes, lowBudget, fullBudget, maximumBudget) }
    function budgetAt(position) { return App.planner.budgetAt(position, lowBudget, fullBudget, maximumBudget) }
    // A budget from the slider, snapped to a mark when within 1.5% of the slider's width of it.
    function setBudgetFromPosition(position) {
        // Whole MiB, or 4 KiB steps when the useful range is small (tiny models).
        const step = fullBudget - lowBudget > 256 * 1048576 ? 1048576 : 4096
        let bytes = Math.max(lowBudget, Math.round(budgetAt(position) / step) * step)
        for (const mark of marks) {
            if (Math.abs(positionOf(mark.bytes) - position) < 0.015) bytes = mark.bytes
        }
        if (position >= 1) bytes = maximumBudget
        stagedBudget = bytes
        budgetError = ""
    }
    // The text field: "1.5G", "900M", "50%" (of the memory available now), parsed by the planner.
    function setBudgetFromText(text) {
        // The shown (rounded) size sent back unchanged keeps the exact budget.
        if (text.trim() === size(effectiveBudget)) { budgetError = ""; return true }
        const parsed = App.planner.parseBudget(text)
        if (!parsed.ok) { budgetError = parsed.error; return false }
        if (App.planner.budgetable && parsed.bytes < minimumBudget) {
            budgetError = qsTr("%1 is below this model's minimum of %2.").arg(size(parsed.bytes)).arg(size(minimumBudget))
            return false
        }
        if (parsed.bytes > maximumBudget) {
            budgetError = qsTr("%1 is more than this machine's memory, %2.").arg(size(parsed.bytes)).arg(size(maximumBudget))
            return false
        }
        budgetError = ""
        stagedBudget = parsed.bytes
        return true
    }

    function loadStaged() {
        budgetError = ""
        stagedMode = App.settings.mode
        stagedBudget = App.settings.dramBudget
        stagedWindow = App.settings.sparseWindow
        stagedPredictor = App.settings.sparsePredictor
        stagedThreads = App.settings.threads
        stagedContext = App.settings.contextLength
    }
    // The budget last: each change is checked against the minimum of the settings in
    // effect (bindSettings raises a budget below it), so those must be the new ones.
    function applyStaged() {
        App.settings.mode = stagedMode
        App.settings.sparseWindow = stagedWindow
        App.settings.sparsePredictor = stagedPredictor
        App.settings.threads = stagedThreads
        App.settings.contextLength = stagedContext
        App.settings.dramBudget = stagedBudget > 0 ? Math.max(stagedBudget, minimumBudget) : stagedBudget
        budgetError = ""
    }
    function size(bytes) { return App.planner.formatSize(bytes) }
    function scrollToEnd() { scroller.contentItem.contentY = Math.max(0, scroller.contentHeight - scroller.height) }
    function scrollToTop() { scroller.contentItem.contentY = 0 }
    // The disk section (Measure disk) near the top of the view, with the expected speed above it.
    function scrollToServer() {
        scroller.contentItem.contentY = Math.max(0, Math.min(serverSection.y - 20, scroller.contentHeight - scroller.height))
    }
    // The Presets section at the top of the view (the chat header's "Edit presets…"). The page may
    // have just been shown, its contents still being laid out: for a moment the view follows the
    // section if it moves (Qt 6.4's layouts have no forceLayout()).
    property bool followPresets: false
    function scrollToPresets() {
        followPresets = true
        placePresets()
        stopFollowing.restart()
    }
    function placePresets() {
        scroller.contentItem.contentY = Math.max(0, Math.min(presetsSection.y, scroller.contentHeight - scroller.height))
    }
    Timer { id: stopFollowing; interval: 1000; onTriggered: root.followPresets = false }
    Connections {
        target: presetsSection
        function onYChanged() { if (root.followPresets) root.placePresets() }
    }
    function scrollToDisk() {
        scroller.contentItem.contentY = Math.max(0, Math.min(diskName.y - 260, scroller.contentHeight - scroller.height))
    }

    Component.onCompleted: loadStaged()
    onVisibleChanged: if (visible) { App.planner.refreshAvailable(); loadStaged() }
    Connections {
        target: App.settings
        function onModelPathChanged() { root.loadStaged() }
    }

    component Caption: Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: root.theme.mutedText  // qmllint disable unqualified
        font.pixelSize: 12
    }
    component Heading: Label {
        Layout.topMargin: 14
        Layout.columnSpan: 2
        font.bold: true
        font.pixelSize: 16
        color: root.theme.text  // qmllint disable unqualified
    }
    component Name: Label {
        color: root.theme.text  // qmllint disable unqualified
        Layout.alignment: Qt.AlignVCenter
    }
    component Spacer: Item { width: 1; height: 1 }
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
                objectName: "applyButton"
                text: qsTr("Apply and restart the engine")
                highlighted: true
                // Not with settings the planner refuses (e.g. a predictor the pack lacks): the load would fail.
                // (Auto has no such case: below flash mode's minimum it runs mmap and says why.)
                enabled: root.dirty && !(root.budgeted && root.stagedMode !== "auto" && App.planner.budgetable && root.plan.ok !== true)
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
                enabled: App.chat.modelLoaded
                checked: App.settings.perModel
                text: App.chat.modelLoaded ? qsTr("For %1 only").arg(App.chat.modelName) : qsTr("For this model only (load a model first)")
                Accessible.name: qsTr("Keep these settings for this model only")
                onToggled: { App.settings.perModel = checked; root.loadStaged() }
            }
            Caption {
                Layout.columnSpan: 2
                text: App.settings.perModel ? qsTr("These values are remembered for this model and used whenever it is loaded.")
                                        : qsTr("These values apply to every model that has no settings of its own.")
            }

            // --- engine -----------------------------------------------------
            Heading { text: qsTr("Engine") }
            Name { text: qsTr("Mode") }
            ComboBox {
                id: modeBox
                objectName: "modeSelector"
                Layout.fillWidth: true
                model: App.planner.supportedModes
                currentIndex: Math.max(0, root.modes.indexOf(root.stagedMode))
                onActivated: (index) => root.stagedMode = App.planner.supportedModes[index]
                Accessible.name: qsTr("Engine mode")
            }
            Spacer {}
            Caption {
                text: ({ auto: qsTr("auto: the engine picks — dense when the whole model fits the budget, else flash " +
                                    "for a packed or Mixture-of-Experts model (exact), else mmap; sparse is offered for calibrated packs."),
                         dense: qsTr("dense: every weight is read into memory."),
                         mmap: qsTr("mmap: the operating system pages weights in from the file."),
                         flash: qsTr("flash: a packed model, or a Mixture-of-Experts one, runs under the DRAM budget; the rest streams from the SSD."),
                         sparse: qsTr("sparse: like flash, but only the neurons a token needs are read.") })[root.stagedMode] || ""
            }

            Spacer { visible: root.stagedMode === "auto" }
            Label {
                objectName: "autoChoiceText"
                visible: root.stagedMode === "auto"
                Layout.fillWidth: true
                wrapMode: Text.Wrap
                font.pixelSize: 12
                font.bold: true
                color: root.choice.ok === false ? root.theme.error : root.theme.text
                text: !root.hasModel ? qsTr("Load a model to see what auto mode would choose.")
                      : root.choice.ok ? qsTr("Auto would run %1").arg(root.choice.line)
                                       : (root.choice.error || "")
            }
            Spacer { visible: root.stagedMode === "auto" && (root.choice.offer || "") !== "" }
            Caption {
                objectName: "sparseOfferText"
                visible: root.stagedMode === "auto" && (root.choice.offer || "") !== ""
                text: root.choice.offer || ""
            }

            Name { text: qsTr("DRAM budget"); Layout.alignment: Qt.AlignTop; Layout.topMargin: 6 }
            ColumnLayout {
                Layout.fillWidth: true
                spacing: 0
                enabled: root.budgeted && root.hasModel && (App.planner.budgetable || root.stagedMode === "auto")
                RowLayout {
                    Layout.fillWidth: true
                    spacing: 8
                    Slider {
                        id: budget
                        objectName: "budgetSlider"
                        Layout.fillWidth: true
                        from: 0
                        to: 1
                        stepSize: 0.01
                        value: root.positionOf(root.effectiveBudget)
                        onMoved: root.setBudgetFromPosition(value)
                        // Home / End: the minimum / this machine's memory; Page Up / Down: a tenth of the slider.
                        Keys.onPressed: (event) => {
                            const jumps = { [Qt.Key_Home]: -1, [Qt.Key_End]: 2, [Qt.Key_PageUp]: 0.1, [Qt.Key_PageDown]: -0.1 }
                            if (!(event.key in jumps)) return
                            const step = jumps[event.key]
                            const target = step === -1 ? 0 : step === 2 ? 1 : Math.min(1, Math.max(0, position + step))
                            root.setBudgetFromPosition(target)
                            event.accepted = true
                        }
                        Accessible.name: qsTr("DRAM budget")
                        Accessible.description: qsTr("From the model's minimum to everything in memory, then up to this machine's memory")
                    }
                    TextField {
                        id: budgetField
                        objectName: "budgetField"
                        Layout.preferredWidth: 110
                        text: root.size(root.effectiveBudget)
                        selectByMouse: true
                        color: root.theme.text
                        placeholderText: qsTr("e.g. 1.5G")
                        Accessible.name: qsTr("DRAM budget as text, e.g. 1.5G, 900M or 50%")
                        onAccepted: if (root.setBudgetFromText(text)) text = Qt.binding(() => root.size(root.effectiveBudget))
                        onActiveFocusChanged: if (!activeFocus && root.budgetError === "")
                                                  text = Qt.binding(() => root.size(root.effectiveBudget))
                    }
                }
                // Snap marks: the minimum, half way, everything in memory.
                Item {
                    Layout.fillWidth: true
                    Layout.preferredHeight: 26
                    Repeater {
                        model: root.marks
                        Item {
                            id: mark
                            required property var modelData
                            readonly property real handleWidth: budget.handle ? budget.handle.width : 0  // qmllint disable unqualified
                            x: budget.leftPadding + handleWidth / 2  // qmllint disable unqualified
                               + root.positionOf(modelData.bytes) * (budget.availableWidth - handleWidth)
                            Rectangle { x: -0.5; width: 1; height: 5; color: root.theme.mutedText }  // qmllint disable unqualified
                            Label {
                                y: 5
                                x: Math.max(-budget.leftPadding - parent.x, -width / 2)  // qmllint disable unqualified
                                text: mark.modelData.name
                                color: root.theme.mutedText  // qmllint disable unqualified
                                font.pixelSize: 10
                            }
                        }
                    }
                }
                Label {
                    objectName: "budgetError"
                    visible: root.budgetError !== ""
                    Layout.fillWidth: true
                    wrapMode: Text.Wrap
                    text: root.budgetError
                    color: root.theme.error
                    font.pixelSize: 12
                }
                RowLayout {
                    Layout.fillWidth: true
                    Caption {
                        objectName: "defaultBudgetText"
                        text: root.stagedBudget > 0 ? qsTr("Set by you. The default is %1.").arg(App.planner.defaultBudgetText)
                                                    : qsTr("Default: %1.").arg(App.planner.defaultBudgetText)
                    }
                    Button {
                        objectName: "budgetDefaultButton"
                        visible: root.stagedBudget > 0
                        text: qsTr("Use the default")
                        flat: true
                        onClicked: { root.stagedBudget = 0; root.budgetError = "" }
                        Accessible.name: qsTr("Use the default DRAM budget")
                    }
                }
            }
            Spacer {}
            Caption {
                text: !root.hasModel ? qsTr("Load a model to set its budget.")
                      : !App.planner.budgetable ? (root.stagedMode === "auto"
                            ? qsTr("A plain model: auto runs it dense when it fits the budget, else mmap. Add it in Models to pack it for flash mode.")
                            : qsTr("The DRAM budget applies to packed models in flash or sparse mode; add the model in Models to pack it."))
                      : root.minimumBudget <= 0 ? qsTr("The minimum is unknown for these settings (see below).")
                      : qsTr("From this model's minimum, %1 (%2), to everything in memory, %3; beyond it up to this machine's memory, %4. Sizes in GiB (2^30 bytes).")
                            .arg(root.size(root.minimumBudget))
                            .arg(App.planner.describeSettings(root.plan.threads || 0, root.plan.context || 0, root.plan.mode || "flash"))
                            .arg(root.size(root.fullBudget))
                            .arg(root.size(App.planner.machineBytes))
            }

            // How the budget is split, as the planner would do it.
            Spacer { visible: App.planner.budgetable }
            ColumnLayout {
                objectName: "budgetSplit"
                visible: App.planner.budgetable
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
                            color: Qt.hsla((0.6 + index * 0.13) % 1, 0.55, root.theme.dark ? 0.6 : 0.5, 1)  // qmllint disable unqualified
                        }
                    }
                }
                Repeater {
                    model: root.plan.ok ? root.plan.items : []
                    RowLayout {
                        id: part
                        required property var modelData
                        required property int index
                        Layout.fillWidth: true
                        spacing: 8
                        Rectangle {
                            width: 10; height: 10
                            color: Qt.hsla((0.6 + part.index * 0.13) % 1, 0.55, root.theme.dark ? 0.6 : 0.5, 1)  // qmllint disable unqualified
                        }
                        Label { Layout.fillWidth: true; text: part.modelData.what; color: root.theme.text; font.pixelSize: 12 }  // qmllint disable unqualified
                        Label { text: part.modelData.text; color: root.theme.text; font.pixelSize: 12 }  // qmllint disable unqualified
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

            // The disk's speed, measured here (no terminal): the predicted tokens/s above follows at once.
            Name { id: diskName; text: qsTr("Disk"); Layout.alignment: Qt.AlignTop; Layout.topMargin: 6 }
            ColumnLayout {
                Layout.fillWidth: true
                spacing: 4
                RowLayout {
                    spacing: 8
                    Button {
                        objectName: "measureDiskButton"
                        text: App.planner.diskMBps > 0 ? qsTr("Measure again") : qsTr("Measure disk")
                        enabled: !App.diskMeasure.running
                        onClicked: App.diskMeasure.start()
                        Accessible.name: qsTr("Measure the disk's read speed")
                    }
                    ProgressBar {
                        objectName: "measureProgress"
                        visible: App.diskMeasure.running
                        Layout.fillWidth: true
                        from: 0; to: 1
                        value: App.diskMeasure.progress
                    }
                    Button {
                        objectName: "cancelMeasureButton"
                        visible: App.diskMeasure.running
                        text: qsTr("Cancel")
                        onClicked: App.diskMeasure.cancel()
                        Accessible.name: qsTr("Cancel the disk measurement")
                    }
                }
                Caption {
                    objectName: "diskText"
                    text: App.diskMeasure.running || App.diskMeasure.statusText !== "" ? App.diskMeasure.statusText
                          : App.planner.diskMBps > 0 ? qsTr("%1 MB/s (10^6 bytes/s) for the engine's 1 MiB reads, 32 in flight, from %2.")
                                                     .arg(App.planner.diskMBps.toFixed(0)).arg(App.planner.diskProfilePath)
                          : qsTr("Not measured yet: measuring writes a 256 MiB test file next to your models for a few seconds, then deletes it.")
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
                enabled: App.planner.sparseWindowSupported
                from: 0; to: 64
                editable: true
                value: root.stagedWindow
                onValueModified: root.stagedWindow = value
                Accessible.name: qsTr("Sparse window in tokens")
            }
            Spacer { visible: root.sparse }
            Caption {
                visible: root.sparse
                text: App.planner.sparseWindowSupported ? qsTr("Neurons used by any of the last N tokens stay in DRAM.")
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

            Spacer {}
            Button {
                text: qsTr("Reset the engine settings")
                Accessible.name: qsTr("Reset the engine settings to their defaults")
                onClicked: { App.settings.resetToDefaults(); root.loadStaged() }
            }

            // --- presets: the system prompt and sampling (their own file) ------
            PresetsSettings {
                id: presetsSection
                Layout.columnSpan: 2
                Layout.fillWidth: true
                theme: root.theme
            }

            // --- look ---------------------------------------------------------
            Heading { text: qsTr("Appearance") }
            Name { text: qsTr("Theme") }
            ComboBox {
                model: [qsTr("Light"), qsTr("Dark"), qsTr("Follow system")]
                readonly property var values: ["light", "dark", "system"]
                currentIndex: Math.max(0, values.indexOf(App.settings.theme))
                onActivated: (index) => App.settings.theme = values[index]
                Accessible.name: qsTr("Theme")
            }

            // --- local server (its own file; not touched by Reset) ------------
            LocalServerSettings {
                id: serverSection
                Layout.columnSpan: 2
                Layout.fillWidth: true
                theme: root.theme
            }
        }
    }
}
