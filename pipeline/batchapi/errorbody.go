package batchapi

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
)

// errorEnvelope is the API's error body:
// {"error": {"type": ..., "message": ..., "metadata": {...}}}.
type errorEnvelope struct {
	Error json.RawMessage `json:"error"`
}

type errorObject struct {
	Type     string         `json:"type"`
	Message  string         `json:"message"`
	Metadata map[string]any `json:"metadata"`
}

// storeError is the XML error body of an object store, such as
// <Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>.
type storeError struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// parseErrorBody fills Type, Message and Metadata of e from body. It reads
// the API's JSON envelope (also with "error" as a plain string), an object
// store's XML error, or else keeps a short excerpt of the body. Everything
// kept passes through sc.
func parseErrorBody(e *APIError, body []byte, sc scrubber) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return
	}
	if parseJSONError(e, trimmed, sc) || parseXMLError(e, trimmed, sc) {
		return
	}
	e.Message = sc.excerpt(trimmed, maxExcerptBytes)
}

func parseJSONError(e *APIError, body []byte, sc scrubber) bool {
	var env errorEnvelope
	if json.Unmarshal(body, &env) != nil || len(env.Error) == 0 || string(env.Error) == "null" {
		return false
	}
	var obj errorObject
	if json.Unmarshal(env.Error, &obj) == nil {
		e.Type = sc.excerpt([]byte(obj.Type), maxExcerptBytes)
		e.Message = sc.excerpt([]byte(obj.Message), maxMessageBytes)
		e.Metadata = sc.scrubMap(obj.Metadata)
		return true
	}
	var text string
	if json.Unmarshal(env.Error, &text) == nil {
		e.Message = sc.excerpt([]byte(text), maxMessageBytes)
		return true
	}
	return false
}

func parseXMLError(e *APIError, body []byte, sc scrubber) bool {
	if body[0] != '<' {
		return false
	}
	var se storeError
	if xml.Unmarshal(body, &se) != nil || (se.Code == "" && se.Message == "") {
		return false
	}
	text := se.Code
	if se.Message != "" {
		if text != "" {
			text += ": "
		}
		text += se.Message
	}
	e.Message = sc.excerpt([]byte(text), maxExcerptBytes)
	return true
}
