import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// A small live chart of two series over the last reports (oldest left):
// resident memory (scaled to the budget, or to the peak without one) and
// bytes read from flash per token (scaled to its own peak), drawn on a
// Canvas, under its colour key.
//
// The key keeps its size in any layout: its swatches have an implicit size
// and a minimum width. (They used to be Rectangles with only `width` set
// inside a RowLayout; a layout takes such an item's preferred width from its
// current width, so once a narrow window squeezed them to 0 they stayed 0 and
// the swatches were gone for good, even after the window grew again.)
ColumnLayout {
    id: root
    property Theme theme
    property var memory: []     // bytes
    property var io: []         // bytes per token
    property real memoryScale: 1
    property int slots: 30

    spacing: 2
    Layout.fillWidth: false  // not taken from the canvas, which fills the chart's own width
    Accessible.role: Accessible.Chart
    Accessible.name: qsTr("Memory and flash reads over the last tokens")

    component KeyEntry: RowLayout {
        property color swatch
        property alias text: label.text
        spacing: 4
        Rectangle {
            implicitWidth: 8
            implicitHeight: 8
            Layout.minimumWidth: 8
            Layout.minimumHeight: 8
            radius: 4
            color: parent.swatch
        }
        Label {
            id: label
            Layout.minimumWidth: implicitWidth
            color: root.theme.mutedText  // qmllint disable unqualified
            font.pixelSize: 10
        }
    }

    RowLayout {
        objectName: "chartKey"
        spacing: 10
        Layout.minimumWidth: implicitWidth
        KeyEntry { objectName: "chartKeyMemory"; swatch: root.theme.chartMemory; text: qsTr("memory") }
        KeyEntry { objectName: "chartKeyIo"; swatch: root.theme.chartIo; text: qsTr("flash reads") }
    }

    Canvas {
        id: canvas
        objectName: "chartCanvas"
        implicitWidth: 150
        implicitHeight: 26
        Layout.fillWidth: true
        Layout.fillHeight: true
        Layout.minimumWidth: 60
        Layout.minimumHeight: 16

        Connections {
            target: root
            function onMemoryChanged() { canvas.requestPaint() }
            function onIoChanged() { canvas.requestPaint() }
            function onMemoryScaleChanged() { canvas.requestPaint() }
        }
        Connections {
            target: root.theme
            function onDarkChanged() { canvas.requestPaint() }
        }
        onWidthChanged: requestPaint()
        onHeightChanged: requestPaint()

        function plot(ctx, values, scale, color, fill) {
            if (values.length === 0 || scale <= 0)
                return
            var step = width / Math.max(1, root.slots - 1)
            var x0 = width - step * (values.length - 1)
            ctx.beginPath()
            for (var i = 0; i < values.length; ++i) {
                var x = x0 + i * step
                var y = height - 2 - (height - 4) * Math.min(1, values[i] / scale)
                if (i === 0) ctx.moveTo(x, y)
                else ctx.lineTo(x, y)
            }
            ctx.strokeStyle = color
            ctx.lineWidth = 1.5
            ctx.stroke()
            if (fill) {
                ctx.lineTo(width, height)
                ctx.lineTo(x0, height)
                ctx.closePath()
                ctx.globalAlpha = 0.15
                ctx.fillStyle = color
                ctx.fill()
                ctx.globalAlpha = 1
            }
        }

        onPaint: {
            var ctx = getContext("2d")
            ctx.reset()
            ctx.fillStyle = root.theme.assistantBubble
            ctx.fillRect(0, 0, width, height)
            ctx.strokeStyle = root.theme.border
            ctx.strokeRect(0.5, 0.5, width - 1, height - 1)
            var ioPeak = 0
            for (var i = 0; i < root.io.length; ++i) ioPeak = Math.max(ioPeak, root.io[i])
            plot(ctx, root.memory, root.memoryScale, root.theme.chartMemory, true)
            plot(ctx, root.io, ioPeak * 2, root.theme.chartIo, false)  // half height: the two lines stay apart
        }
    }
}
