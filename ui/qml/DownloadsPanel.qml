import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// Downloading a model (the models page's "Download…"): paste a link to a
// .gguf, or pick one of the well-known models of the catalogue; each download
// shows its progress, speed and time left, with Pause / Resume / Cancel. A
// finished file is checked (size, SHA-256 when known) and added to the models
// like "Add model…". Nothing is fetched until the user chooses Download.
// Needs `App.downloads` (DownloadManager); `theme` is optional.
Pane {
    id: root
    property Theme theme: fallbackTheme
    signal closeRequested()

    Theme { id: fallbackTheme }
    implicitWidth: 720
    implicitHeight: 560
    padding: 0
    background: Rectangle { color: root.theme.window }
    // The controls follow the theme as on the models page (a popup does not inherit that page's palette).
    palette.window: theme.window
    palette.windowText: theme.text
    palette.base: theme.assistantBubble
    palette.text: theme.text
    palette.button: theme.dark ? theme.highlight : theme.panel
    palette.buttonText: theme.text
    palette.highlight: theme.accent
    palette.placeholderText: theme.mutedText
    palette.mid: theme.border
    palette.midlight: theme.border
    palette.light: theme.panel
    palette.dark: theme.accent
    palette.brightText: theme.textOnAccent  // text on highlighted (accent) buttons

    function startDownload() {
        if (App.downloads.download(urlField.text, 0, shaField.text, "") !== null) {
            urlField.text = ""
            shaField.text = ""
        }
    }

    ScrollView {
        id: scroll
        anchors.fill: parent
        contentWidth: availableWidth
        clip: true

        ColumnLayout {
            width: scroll.availableWidth
            spacing: 12

            RowLayout {
                Layout.fillWidth: true
                Layout.topMargin: 16
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                spacing: 12
                Label {
                    Layout.fillWidth: true
                    text: qsTr("Download a model")
                    font.pixelSize: 20
                    font.bold: true
                    color: root.theme.text
                }
                Button {
                    objectName: "closeDownloadsButton"
                    text: qsTr("Close")
                    Accessible.name: qsTr("Close the downloads (they go on)")
                    onClicked: root.closeRequested()
                }
            }
            Label {
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                wrapMode: Text.Wrap
                color: root.theme.mutedText
                text: qsTr("Nothing is downloaded until you choose Download. Files go to %1, then are added to your " +
                           "models as with “Add model…”. A paused download continues where it stopped, also after " +
                           "Sieve was closed.").arg(App.downloads.modelsDir)
            }

            RowLayout {
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                spacing: 8
                TextField {
                    id: urlField
                    objectName: "downloadUrlField"
                    Layout.fillWidth: true
                    placeholderText: qsTr("https://huggingface.co/…/model.gguf")
                    selectByMouse: true
                    Accessible.name: qsTr("Address of a GGUF file")
                    onAccepted: root.startDownload()
                }
                TextField {
                    id: shaField
                    Layout.preferredWidth: 190
                    placeholderText: qsTr("SHA-256 (optional)")
                    selectByMouse: true
                    Accessible.name: qsTr("Its SHA-256, to check the file (optional)")
                    onAccepted: root.startDownload()
                }
                Button {
                    objectName: "downloadUrlButton"
                    text: qsTr("Download")
                    highlighted: true
                    enabled: urlField.text.trim().length > 0
                    opacity: enabled ? 1 : 0.45
                    Accessible.name: qsTr("Download the file at this address")
                    onClicked: root.startDownload()
                }
            }
            // Why the last request was refused, or a catalogue that could not be read.
            Label {
                objectName: "downloadsMessage"
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                visible: App.downloads.message !== ""
                text: App.downloads.message
                wrapMode: Text.Wrap
                color: App.downloads.messageIsError ? root.theme.error : root.theme.text
                Accessible.role: App.downloads.messageIsError ? Accessible.AlertMessage : Accessible.StaticText
            }

            Label {
                Layout.leftMargin: 16
                visible: App.downloads.count > 0
                text: qsTr("Downloads")
                font.bold: true
                font.pixelSize: 15
                color: root.theme.text
            }
            Repeater {
                objectName: "downloadRows"
                model: App.downloads.downloads
                delegate: Rectangle {
                    id: row
                    required property Download modelData
                    readonly property Download download: modelData
                    Layout.fillWidth: true
                    Layout.leftMargin: 16
                    Layout.rightMargin: 16
                    implicitHeight: rowColumn.implicitHeight + 24
                    radius: 6
                    color: root.theme.assistantBubble  // qmllint disable unqualified
                    border.color: root.theme.border  // qmllint disable unqualified
                    Accessible.role: Accessible.ProgressBar
                    Accessible.name: qsTr("Downloading %1: %2").arg(download.name).arg(download.detail)

                    ColumnLayout {
                        id: rowColumn
                        anchors.fill: parent
                        anchors.margins: 12
                        spacing: 6
                        RowLayout {
                            Layout.fillWidth: true
                            spacing: 8
                            Label {
                                Layout.fillWidth: true
                                text: row.download.name
                                font.bold: true
                                color: root.theme.text  // qmllint disable unqualified
                                elide: Text.ElideMiddle
                            }
                            Button {
                                text: qsTr("Pause")
                                visible: row.download.canPause
                                Accessible.name: qsTr("Pause downloading %1").arg(row.download.name)
                                onClicked: row.download.pause()
                            }
                            Button {
                                text: row.download.error !== "" ? qsTr("Retry") : qsTr("Resume")
                                visible: row.download.canResume
                                highlighted: true
                                Accessible.name: qsTr("Resume downloading %1").arg(row.download.name)
                                onClicked: row.download.resume()
                            }
                            Button {
                                text: qsTr("Cancel")
                                visible: !row.download.finished && row.download.state !== "importing"
                                Accessible.name: qsTr("Cancel downloading %1 and delete what was downloaded").arg(row.download.name)
                                onClicked: row.download.cancel()
                            }
                            Button {
                                text: qsTr("Dismiss")
                                visible: row.download.finished
                                Accessible.name: qsTr("Remove %1 from the downloads").arg(row.download.name)
                                onClicked: row.download.dismiss()
                            }
                        }
                        ProgressBar {
                            Layout.fillWidth: true
                            from: 0
                            to: 1
                            value: row.download.progress
                            visible: !row.download.finished
                            indeterminate: row.download.state === "checking" ||
                                           (row.download.state === "running" && row.download.progress <= 0)
                            Accessible.name: qsTr("Download progress")
                        }
                        Label {
                            objectName: "downloadDetail"
                            Layout.fillWidth: true
                            text: row.download.detail
                            wrapMode: Text.Wrap
                            color: row.download.state === "failed" || (row.download.state === "paused" && row.download.error !== "")
                                   ? root.theme.error : root.theme.mutedText  // qmllint disable unqualified
                        }
                    }
                }
            }

            Label {
                Layout.leftMargin: 16
                Layout.topMargin: 4
                text: qsTr("Well-known models")
                font.bold: true
                font.pixelSize: 15
                color: root.theme.text
            }
            Label {
                Layout.fillWidth: true
                Layout.leftMargin: 16
                Layout.rightMargin: 16
                wrapMode: Text.Wrap
                font.pixelSize: 11
                color: root.theme.mutedText
                text: qsTr("From %1. Your own list at catalogue.json in Sieve's settings folder replaces it " +
                           "(see Downloading models in the documentation).").arg(App.downloads.catalogueSource)
            }
            Repeater {
                objectName: "catalogueRows"
                model: App.downloads.catalogue
                delegate: Rectangle {
                    id: entry
                    required property int index
                    required property var modelData
                    Layout.fillWidth: true
                    Layout.leftMargin: 16
                    Layout.rightMargin: 16
                    implicitHeight: entryRow.implicitHeight + 20
                    radius: 6
                    color: root.theme.assistantBubble  // qmllint disable unqualified
                    border.color: root.theme.border  // qmllint disable unqualified
                    Accessible.role: Accessible.ListItem
                    Accessible.name: qsTr("%1, %2").arg(modelData.name).arg(modelData.sizeText)

                    RowLayout {
                        id: entryRow
                        anchors.fill: parent
                        anchors.margins: 10
                        spacing: 12
                        ColumnLayout {
                            Layout.fillWidth: true
                            spacing: 2
                            Label {
                                Layout.fillWidth: true
                                text: entry.modelData.name
                                font.bold: true
                                color: root.theme.text  // qmllint disable unqualified
                                elide: Text.ElideRight
                            }
                            Label {
                                Layout.fillWidth: true
                                text: [entry.modelData.sizeText, entry.modelData.checks, entry.modelData.description]
                                      .filter(function (s) { return s.length > 0 }).join("  ·  ")
                                color: root.theme.mutedText  // qmllint disable unqualified
                                wrapMode: Text.Wrap
                            }
                        }
                        Button {
                            text: qsTr("Download")
                            Accessible.name: qsTr("Download %1").arg(entry.modelData.name)
                            onClicked: App.downloads.downloadFromCatalogue(entry.index)
                        }
                    }
                }
            }
            Item { implicitHeight: 8 }
        }
    }
}
