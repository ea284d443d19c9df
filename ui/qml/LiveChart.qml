import QtQuick

// A small live chart of two series over the last reports (oldest left):
// resident memory (scaled to the budget, or to the peak without one) and
// bytes read from flash per token (scaled to its own peak). Drawn on a Canvas.
Canvas {
    id: root
    property QtObject theme
    property var memory: []     // bytes
    property var io: []         // bytes per token
    property real memoryScale: 1
    property int slots: 30

    implicitWidth: 160
    implicitHeight: 36
    Accessible.role: Accessible.Chart
    Accessible.name: qsTr("Memory and flash reads over the last tokens")

    onMemoryChanged: requestPaint()
    onIoChanged: requestPaint()
    onWidthChanged: requestPaint()
    onHeightChanged: requestPaint()
    Connections {
        target: root.theme
        function onDarkChanged() { root.requestPaint() }
    }

    function plot(ctx, values, scale, color, fill) {
        if (values.length === 0 || scale <= 0)
            return
        var step = width / Math.max(1, slots - 1)
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
        ctx.fillStyle = theme.assistantBubble
        ctx.fillRect(0, 0, width, height)
        ctx.strokeStyle = theme.border
        ctx.strokeRect(0.5, 0.5, width - 1, height - 1)
        var ioPeak = 0
        for (var i = 0; i < io.length; ++i) ioPeak = Math.max(ioPeak, io[i])
        plot(ctx, memory, memoryScale, theme.chartMemory, true)
        plot(ctx, io, ioPeak * 2, theme.chartIo, false)  // half height: the two lines stay apart
    }
}
