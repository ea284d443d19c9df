import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// The live status under every page while a model is loaded: what the app is
// doing, then the worker's latest figures (chat.live) — tokens/s, the
// engine's memory against the DRAM budget, the app's RAM apart (the budget
// covers only the engine), MB read from flash per token, the share of FFN weights
// found in DRAM — and a small chart of memory and flash reads. Figures that do
// not apply to the engine's mode show "—". Under the status, the mode the
// engine runs and why (chat.modeChoice: auto mode's one-line reason). Sizes
// are binary (MiB = 2^20 bytes), as on the settings page. While the local
// server is on, its requests in flight (or "on :PORT").
Rectangle {
    id: root
    property Theme theme
    readonly property LiveStatus live: App.chat.live
    implicitHeight: row.implicitHeight + 8
    color: theme.panel
    Rectangle { width: parent.width; height: 1; color: root.theme.border }

    function mib(bytes) { return (bytes / 1048576).toFixed(bytes < 10 * 1048576 ? 1 : 0) + " MiB" }
    function dash(ok, text) { return ok ? text : "—" }
    // "7.7 / 7.8 MiB": both in the unit and precision of the larger.
    function mibPair(used, total) {
        const digits = Math.max(used, total) < 10 * 1048576 ? 1 : 0
        return (used / 1048576).toFixed(digits) + " / " + (total / 1048576).toFixed(digits) + " MiB"
    }

    // Too narrow for everything (a large font, a small screen): the status text gives way, and
    // the figures elide (down to 36 px each). They used to keep their full width, so the row
    // overflowed and pushed the chart and its colour key out of the window.
    component Figure: Item {
        id: figure
        property string label
        property string value
        property string help
        implicitWidth: Math.ceil(Math.max(labelText.implicitWidth, valueText.implicitWidth))  // whole pixels: no elision at full width
        implicitHeight: labelText.implicitHeight + valueText.implicitHeight
        // A RowLayout gives an item that does not fill exactly its preferred width, never less:
        // filling up to its text's width lets the row shrink it to the minimum when squeezed.
        Layout.fillWidth: true
        Layout.maximumWidth: implicitWidth
        Layout.minimumWidth: 36
        Label {
            id: labelText
            width: figure.width
            text: figure.label; color: root.theme.mutedText; font.pixelSize: 10  // qmllint disable unqualified
            elide: Text.ElideRight
        }
        Label {
            id: valueText
            y: labelText.height
            width: figure.width
            text: figure.value; color: root.theme.text; font.pixelSize: 12; font.bold: true  // qmllint disable unqualified
            elide: Text.ElideRight
        }
        Accessible.role: Accessible.StaticText
        Accessible.name: label + ": " + value
        HoverHandler { id: hover }
        ToolTip.visible: hover.hovered && help.length > 0
        ToolTip.text: help
        ToolTip.delay: 500
    }

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.leftMargin: 12
        anchors.rightMargin: 12
        anchors.topMargin: 4
        anchors.bottomMargin: 4
        spacing: 18

        ColumnLayout {
            // What is left after the figures and the chart: the status and the mode line elide
            // first (their natural width would squeeze the figures instead).
            Layout.fillWidth: true
            Layout.preferredWidth: 0
            Layout.minimumWidth: 0
            spacing: 0
            Label {
                objectName: "statusText"
                Layout.fillWidth: true
                elide: Text.ElideRight
                color: root.theme.mutedText
                font.pixelSize: 12
                text: App.chat.statusText
                Accessible.name: qsTr("Status: %1").arg(App.chat.statusText)
            }
            Label {
                objectName: "modeChoiceText"
                Layout.fillWidth: true
                visible: App.chat.modeChoice !== ""
                elide: Text.ElideRight
                color: root.theme.text
                font.pixelSize: 11
                text: App.chat.modeChoice
                Accessible.name: qsTr("Engine mode: %1").arg(App.chat.modeChoice)
                HoverHandler { id: choiceHover }
                ToolTip.visible: choiceHover.hovered
                ToolTip.text: App.chat.modeOffer !== "" ? App.chat.modeChoice + "\n" + App.chat.modeOffer : App.chat.modeChoice
                ToolTip.delay: 500
            }
        }
        Figure {  // the local server, while it is on (App.server, local_server.h)
            objectName: "figureServer"
            visible: App.server.running
            label: qsTr("server")
            value: App.server.requestsInFlight > 0 ? qsTr("%n request(s)", "", App.server.requestsInFlight)
                                                   : qsTr("on :%1").arg(App.server.port)
            help: qsTr("The local server answers on %1; requests in flight: the one generating and those waiting")
                      .arg(App.server.url)
        }
        Figure {
            objectName: "figureSpeed"
            label: qsTr("tokens/s")
            value: root.dash(root.live.hasData && root.live.tokensPerSecond > 0, root.live.tokensPerSecond.toFixed(1))
            help: qsTr("Decoding speed over the last few tokens")
        }
        Figure {
            objectName: "figureEngine"
            label: root.live.budgetBytes > 0 ? qsTr("engine / budget") : qsTr("engine")
            value: !root.live.hasData || root.live.engineBytes <= 0 ? "—"
                   : root.live.budgetBytes > 0 ? root.mibPair(root.live.engineBytes, root.live.budgetBytes)
                                               : root.mib(root.live.engineBytes)
            help: root.live.budgetBytes > 0
                  ? qsTr("The engine's own memory as planned for the DRAM budget (resident weights, KV cache, " +
                         "buffers, FFN weights kept in DRAM), against that budget")
                  : qsTr("The engine's own memory: the weights it holds and the KV cache (no DRAM budget in this mode)")
        }
        Figure {
            objectName: "figureAppRam"
            label: qsTr("app RAM")
            value: root.live.hasData ? root.mib(root.live.rssBytes) : "—"
            help: qsTr("The whole app's resident memory now (peak %1). Besides the engine it holds Qt, the QML " +
                       "interface, fonts and the chat history, which the DRAM budget does not cover.")
                      .arg(root.mib(root.live.peakRssBytes))
        }
        Figure {
            objectName: "figureFlash"
            label: qsTr("flash MiB/token")
            value: root.dash(root.live.hasData && root.live.flashBytesPerToken >= 0,
                             (root.live.flashBytesPerToken / 1048576).toFixed(1))
            help: qsTr("MiB (2^20 bytes) streamed from the SSD per generated token (flash and sparse mode)")
        }
        Figure {
            objectName: "figureHitRate"
            label: qsTr("cache hits")
            value: root.dash(root.live.hasData && root.live.dramHitRate >= 0,
                             (root.live.dramHitRate * 100).toFixed(0) + " %")
            help: qsTr("Share of the FFN weights a token needs that were already in DRAM (flash mode)")
        }
        LiveChart {  // with its colour key
            objectName: "liveChart"
            Layout.preferredWidth: 150
            theme: root.theme
            memory: root.live.memoryHistory
            io: root.live.ioHistory
            memoryScale: 1.25 * Math.max(root.live.budgetBytes, root.live.peakRssBytes)
        }
    }
}
