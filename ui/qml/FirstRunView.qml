import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Shown until a model is loaded: what Sieve needs and how to give it.
Item {
    id: root
    property QtObject theme
    signal addModelRequested()

    ColumnLayout {
        anchors.centerIn: parent
        width: Math.min(root.width - 64, 560)
        spacing: 18

        Label {
            Layout.fillWidth: true
            text: qsTr("Welcome to Sieve")
            font.pixelSize: 30
            font.bold: true
            color: root.theme.text
            horizontalAlignment: Text.AlignHCenter
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: root.theme.text
            font.pixelSize: 15
            horizontalAlignment: Text.AlignHCenter
            text: qsTr("Sieve runs language models on this computer, offline — even models larger " +
                       "than its memory, by streaming weights from the SSD.")
        }
        Label {
            Layout.fillWidth: true
            wrapMode: Text.Wrap
            color: root.theme.mutedText
            font.pixelSize: 14
            horizontalAlignment: Text.AlignHCenter
            textFormat: Text.StyledText
            text: qsTr("To start, add a model file in <b>GGUF</b> format (for example one downloaded " +
                       "from Hugging Face). It stays where it is; Sieve remembers it for next time.")
        }
        Button {
            Layout.alignment: Qt.AlignHCenter
            text: chat.loading ? qsTr("Loading…") : qsTr("Add model…")
            enabled: !chat.loading
            highlighted: true
            font.pixelSize: 15
            Accessible.name: qsTr("Add a GGUF model")
            onClicked: root.addModelRequested()
        }
        Label {
            Layout.fillWidth: true
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            color: root.theme.mutedText
            text: chat.statusText
            Accessible.name: qsTr("Status: %1").arg(chat.statusText)
        }
    }
}
