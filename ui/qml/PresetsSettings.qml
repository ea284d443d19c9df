import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// The settings page's "Presets" section (App.presets, presets_controller.h):
// the list of presets — the built-in Default first, then those for every
// model, then each model's own —, New, Duplicate, Rename…, Delete… (asks
// first, saying how many conversations go back to the Default), and the
// selected preset's editor: who it is for (all models, or the loaded model
// only), its system prompt, sampling and reply length. Each value is saved as
// it changes and applies to the next reply of every conversation using the
// preset; a value the app refuses is shown under the list and not kept.
// objectNames used by tests: presetsSettings, presetList, presetNewButton,
// presetDuplicateButton, presetRenameButton, presetDeleteButton, presetName,
// presetScope, presetPrompt, presetTemperature, presetReplyLength,
// presetError, presetRenameDialog, presetRenameField, presetDeleteDialog.
ColumnLayout {
    id: root
    objectName: "presetsSettings"
    property Theme theme
    spacing: 8

    component Caption: Label {
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: root.theme.mutedText  // qmllint disable unqualified
        font.pixelSize: 12
    }
    component Name: Label {
        color: root.theme.text  // qmllint disable unqualified
        Layout.alignment: Qt.AlignVCenter
    }
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
            color: root.theme.text  // qmllint disable unqualified
            Layout.preferredWidth: 44
            horizontalAlignment: Text.AlignRight
        }
    }

    Label {
        Layout.topMargin: 14
        text: qsTr("Presets")
        font.bold: true
        font.pixelSize: 16
        color: root.theme.text
    }
    Caption {
        text: qsTr("A preset is a system prompt with sampling settings. Each conversation uses one, chosen in the " +
                   "chat's header; a new chat starts with the one last used with its model. Changes are saved at " +
                   "once and apply to the next reply.")
    }

    RowLayout {
        Layout.fillWidth: true
        spacing: 12
        Rectangle {
            Layout.fillWidth: true
            Layout.preferredHeight: 168
            color: root.theme.assistantBubble
            border.color: root.theme.controlBorder
            radius: 4
            ListView {
                id: presetList
                objectName: "presetList"
                anchors.fill: parent
                anchors.margins: 1
                clip: true
                model: App.presets.presets
                Accessible.name: qsTr("Presets")
                ScrollBar.vertical: ScrollBar {}
                delegate: ItemDelegate {
                    id: presetRow
                    required property var modelData
                    width: ListView.view.width
                    highlighted: modelData.id === App.presets.selectedId
                    onClicked: App.presets.selectedId = modelData.id
                    Accessible.name: qsTr("%1, %2").arg(modelData.name).arg(modelData.scope)
                    contentItem: ColumnLayout {
                        spacing: 0
                        Label {
                            Layout.fillWidth: true
                            text: presetRow.modelData.name
                            elide: Text.ElideRight
                            font.bold: presetRow.highlighted
                            color: root.theme.text  // qmllint disable unqualified
                        }
                        Label {
                            Layout.fillWidth: true
                            text: presetRow.modelData.builtIn ? qsTr("All models · built in") : presetRow.modelData.scope
                            elide: Text.ElideRight
                            font.pixelSize: 11
                            color: root.theme.mutedText  // qmllint disable unqualified
                        }
                    }
                    FocusRing { theme: root.theme }  // qmllint disable unqualified
                }
            }
        }
        ColumnLayout {
            Layout.alignment: Qt.AlignTop
            Layout.fillWidth: false  // (its buttons fill it; it does not fill the row)
            Layout.preferredWidth: 140
            spacing: 6
            Button {
                objectName: "presetNewButton"
                Layout.fillWidth: true
                text: qsTr("New")
                Accessible.name: qsTr("New preset")
                onClicked: App.presets.newPreset()
            }
            Button {
                objectName: "presetDuplicateButton"
                Layout.fillWidth: true
                text: qsTr("Duplicate")
                Accessible.name: qsTr("Duplicate the selected preset")
                onClicked: App.presets.duplicatePreset()
            }
            Button {
                objectName: "presetRenameButton"
                Layout.fillWidth: true
                text: qsTr("Rename…")
                Accessible.name: qsTr("Rename the selected preset")
                onClicked: {
                    renameField.text = App.presets.name
                    renameDialog.open()
                }
            }
            Button {
                objectName: "presetDeleteButton"
                Layout.fillWidth: true
                text: qsTr("Delete…")
                enabled: !App.presets.builtIn
                Accessible.name: qsTr("Delete the selected preset")
                onClicked: {
                    deleteDialog.conversations = App.presets.conversationsUsingSelected()
                    deleteDialog.open()
                }
            }
        }
    }
    Label {
        objectName: "presetError"
        visible: App.presets.error !== ""
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        text: App.presets.error
        color: root.theme.error
    }

    GridLayout {
        Layout.fillWidth: true
        columns: 2
        columnSpacing: 16
        rowSpacing: 8

        Name { text: qsTr("Name") }
        Label {
            objectName: "presetName"
            Layout.fillWidth: true
            elide: Text.ElideRight
            font.bold: true
            color: root.theme.text
            text: App.presets.builtIn ? qsTr("%1 (built in: used by conversations without a preset of their own)").arg(App.presets.name)
                                      : App.presets.name
        }
        Name { text: qsTr("Use with") }
        ComboBox {
            id: scopeBox
            objectName: "presetScope"
            Layout.fillWidth: true
            // "this model": the loaded one, or the other model this preset already belongs to.
            readonly property string thisModel: !App.presets.forAllModels ? App.presets.scopeModelName : App.presets.loadedModelName
            enabled: !App.presets.builtIn && (App.presets.loadedModel !== "" || !App.presets.forAllModels)
            model: [qsTr("All models"), thisModel !== "" ? qsTr("%1 only").arg(thisModel) : qsTr("This model only (load one first)")]
            currentIndex: App.presets.forAllModels ? 0 : 1
            onActivated: (index) => {
                if (index === 0 || App.presets.forAllModels)
                    App.presets.setForLoadedModel(index === 1)
                currentIndex = Qt.binding(() => App.presets.forAllModels ? 0 : 1)
            }
            Accessible.name: qsTr("Which models the preset is for")
        }
        Item { width: 1; height: 1 }
        Caption {
            text: App.presets.builtIn ? qsTr("The Default is for every model; it can be renamed and edited, not deleted.")
                  : App.presets.forAllModels ? qsTr("Offered in the chat whatever model is loaded.")
                  : qsTr("Offered in the chat only while %1 is loaded; elsewhere its conversations use the Default.").arg(App.presets.scopeModelName)
        }

        Name { text: qsTr("System prompt"); Layout.alignment: Qt.AlignTop }
        TextArea {
            id: promptArea
            objectName: "presetPrompt"
            Layout.fillWidth: true
            Layout.preferredHeight: 80
            wrapMode: TextEdit.Wrap
            placeholderText: qsTr("Optional instructions the model reads before the conversation")
            color: root.theme.text
            background: Rectangle {
                color: root.theme.assistantBubble
                border.color: promptArea.activeFocus ? root.theme.accent : root.theme.controlBorder
                radius: 6
            }
            text: App.presets.systemPrompt
            onEditingFinished: App.presets.systemPrompt = text
            Accessible.name: qsTr("System prompt")
            // Another preset selected (or this one saved): show what is stored.
            Connections {
                target: App.presets
                function onSelectedChanged() { promptArea.text = App.presets.systemPrompt }  // qmllint disable unqualified
            }
        }
        Name { text: qsTr("Temperature") }
        ValueSlider {
            objectName: "presetTemperature"
            from: 0; to: App.presets.maxTemperature; stepSize: 0.05
            value: App.presets.temperature
            onMoved: (v) => App.presets.temperature = v
            accessibleName: qsTr("Temperature, 0 for the most likely words")
        }
        Name { text: qsTr("Top-p") }
        ValueSlider {
            from: 0.05; to: 1; stepSize: 0.05
            value: App.presets.topP
            onMoved: (v) => App.presets.topP = v
            accessibleName: qsTr("Top-p")
        }
        Name { text: qsTr("Top-k") }
        SpinBox {
            from: 0; to: App.presets.maxTopK
            editable: true
            value: App.presets.topK
            onValueModified: App.presets.topK = value
            Accessible.name: qsTr("Top-k, 0 for off")
        }
        Name { text: qsTr("Min-p") }
        ValueSlider {
            from: 0; to: 1; stepSize: 0.01
            value: App.presets.minP
            onMoved: (v) => App.presets.minP = v
            accessibleName: qsTr("Min-p")
        }
        Name { text: qsTr("Repeat penalty") }
        ValueSlider {
            from: App.presets.minRepeatPenalty; to: App.presets.maxRepeatPenalty; stepSize: 0.05
            value: App.presets.repeatPenalty
            onMoved: (v) => App.presets.repeatPenalty = v
            accessibleName: qsTr("Repeat penalty, 1 for off")
        }
        Name { text: qsTr("Reply length") }
        SpinBox {
            objectName: "presetReplyLength"
            from: 1; to: App.presets.maxReplyTokens; stepSize: 64
            editable: true
            value: App.presets.maxTokens
            onValueModified: App.presets.maxTokens = value
            Accessible.name: qsTr("Most tokens per reply")
        }
        Item { width: 1; height: 1 }
        Button {
            text: qsTr("Default values")
            Accessible.name: qsTr("Set the preset's sampling and reply length back to their defaults")
            onClicked: App.presets.resetValues()
        }
    }

    // Enter renames, Esc cancels; a name taken in the preset's scope is refused (shown under the list).
    Dialog {
        id: renameDialog
        objectName: "presetRenameDialog"
        title: qsTr("Rename preset")
        modal: true
        parent: Overlay.overlay
        anchors.centerIn: parent
        width: Math.min(420, parent ? parent.width - 40 : 420)
        standardButtons: Dialog.Ok | Dialog.Cancel
        TextField {
            id: renameField
            anchors.fill: parent
            objectName: "presetRenameField"
            Accessible.name: qsTr("New name")
            selectByMouse: true
            onAccepted: renameDialog.accept()
            Keys.onEscapePressed: renameDialog.reject()
        }
        onOpened: {
            renameField.forceActiveFocus()
            renameField.selectAll()
        }
        onAccepted: App.presets.renamePreset(renameField.text)
    }

    Dialog {
        id: deleteDialog
        objectName: "presetDeleteDialog"
        property int conversations: 0
        title: qsTr("Delete the preset “%1”?").arg(App.presets.name)
        modal: true
        parent: Overlay.overlay
        anchors.centerIn: parent
        width: Math.min(460, parent ? parent.width - 40 : 460)
        Label {
            anchors.fill: parent
            wrapMode: Text.Wrap
            color: root.theme.text
            text: deleteDialog.conversations > 1
                  ? qsTr("%1 conversations use it; they will use the Default preset from their next reply.").arg(deleteDialog.conversations)
                  : deleteDialog.conversations === 1 ? qsTr("One conversation uses it; it will use the Default preset from its next reply.")
                  : qsTr("No conversation uses it.")
        }
        footer: DialogButtonBox {
            Button {
                objectName: "presetDeleteConfirm"
                text: qsTr("Delete")
                DialogButtonBox.buttonRole: Dialog.AcceptRole  // QPlatformDialogHelper's roles; qmllint 6.4 knows them on Dialog
                Accessible.name: qsTr("Delete the preset")
            }
            Button {
                text: qsTr("Cancel")
                DialogButtonBox.buttonRole: Dialog.RejectRole
            }
        }
        onAccepted: App.presets.deletePreset()
    }
}
