import QtQuick
import QtQuick.Controls
import QtQuick.Layouts
import Sieve.App

// The settings page's "Local server" section (App.server, local_server.h): a
// switch that serves the loaded model over OpenAI's API to other programs on
// this computer, its port, "allow other devices" (with a warning: the API is
// not encrypted), an optional API key, and the URL to give those programs,
// with a copy button. A port that cannot be opened shows why here, and the
// switch goes back off. objectNames used by tests: localServerSettings,
// serverSwitch, serverPortBox, serverRemoteBox, serverRemoteWarning,
// serverKeyField, serverUrlField, serverCopyButton, serverError, serverState.
ColumnLayout {
    id: root
    objectName: "localServerSettings"
    property Theme theme
    spacing: 8

    Label {
        Layout.topMargin: 14
        text: qsTr("Local server")
        font.bold: true
        font.pixelSize: 16
        color: root.theme.text
    }
    Switch {
        objectName: "serverSwitch"
        Layout.fillWidth: true
        text: qsTr("Let other programs use the loaded model (OpenAI-compatible API)")
        checked: App.settings.serverEnabled
        onToggled: App.settings.serverEnabled = checked
        Accessible.name: qsTr("Local server")
    }
    Label {
        objectName: "serverError"
        visible: App.server.error !== ""
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        text: App.server.error
        color: root.theme.error
        font.bold: true
    }
    Label {
        objectName: "serverState"
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        font.pixelSize: 12
        color: root.theme.mutedText
        text: !App.server.running ? qsTr("Off. Programs written for OpenAI (editor plugins, scripts, the openai libraries) can " +
                                         "use the model loaded here once it is on; requests take turns with your own chats.")
              : !App.chat.modelLoaded ? qsTr("On, but no model is loaded: requests are answered “503 no model loaded”.")
              : App.server.requestsInFlight > 0 ? qsTr("On: serving %1, %n request(s) in flight.", "", App.server.requestsInFlight).arg(App.chat.modelName)
              : qsTr("On: serving %1.").arg(App.chat.modelName)
    }
    GridLayout {
        Layout.fillWidth: true
        columns: 2
        columnSpacing: 16
        rowSpacing: 8

        Label { text: qsTr("Port"); color: root.theme.text }
        SpinBox {
            objectName: "serverPortBox"
            from: 1; to: 65535
            editable: true
            value: App.settings.serverPort
            textFromValue: (value) => value.toString()  // no digit grouping: "8080", not "8,080"
            valueFromText: (text) => parseInt(text, 10)
            onValueModified: App.settings.serverPort = value
            Accessible.name: qsTr("Server port")
        }
        Label { text: qsTr("API key"); color: root.theme.text }
        TextField {
            objectName: "serverKeyField"
            Layout.fillWidth: true
            text: App.settings.serverApiKey
            placeholderText: qsTr("Optional: programs must then send it (Authorization: Bearer KEY)")
            echoMode: TextInput.PasswordEchoOnEdit
            onEditingFinished: App.settings.serverApiKey = text
            Accessible.name: qsTr("Server API key")
        }
        Label { text: qsTr("URL"); color: root.theme.text }
        RowLayout {
            Layout.fillWidth: true
            TextField {
                id: urlField
                objectName: "serverUrlField"
                Layout.fillWidth: true
                readOnly: true
                selectByMouse: true
                text: App.server.url
                Accessible.name: qsTr("Server URL")
            }
            Button {
                objectName: "serverCopyButton"
                text: qsTr("Copy")
                Accessible.name: qsTr("Copy the server URL")
                onClicked: { urlField.selectAll(); urlField.copy(); urlField.deselect() }
            }
        }
    }
    CheckBox {
        objectName: "serverRemoteBox"
        text: qsTr("Allow other devices on the network")
        checked: App.settings.serverAllowRemote
        onToggled: App.settings.serverAllowRemote = checked
        Accessible.name: qsTr("Allow other devices on the network to use the server")
    }
    Label {
        objectName: "serverRemoteWarning"
        visible: App.settings.serverAllowRemote
        Layout.fillWidth: true
        wrapMode: Text.Wrap
        color: root.theme.error
        text: qsTr("Anyone who can reach port %1 of this computer can run the model and read its replies, and the " +
                   "connection is not encrypted. Set an API key, and allow this only on a network you trust. " +
                   "Other devices use this computer's address instead of 127.0.0.1.").arg(App.settings.serverPort)
    }
}
