import Foundation

/// The OpenAPI 3 description served at `/openapi.json`. Hand-written (the
/// routes are few); `checkOpenAPIMatchesRoutes` refuses to start a server
/// whose routing table and this document disagree, and the tests validate it.
let openAPIDocument = #"""
{
  "openapi": "3.0.3",
  "info": {
    "title": "bitnet serve",
    "version": "0.1.0",
    "description": "OpenAI-compatible text generation with a ternary (BitNet b1.58) model."
  },
  "paths": {
    "/": {
      "get": {
        "summary": "A chat page that streams answers",
        "operationId": "chatPage",
        "responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}
      }
    },
    "/health": {
      "get": {
        "summary": "Liveness and slot usage",
        "operationId": "health",
        "responses": {
          "200": {"description": "Serving", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
          "503": {"description": "Shutting down", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
        }
      }
    },
    "/metrics": {
      "get": {
        "summary": "Prometheus metrics (text exposition format)",
        "operationId": "metrics",
        "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}
      }
    },
    "/openapi.json": {
      "get": {
        "summary": "This document",
        "operationId": "openapi",
        "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}
      }
    },
    "/v1/models": {
      "get": {
        "summary": "The model this server runs",
        "operationId": "listModels",
        "security": [{"bearer": []}, {}],
        "responses": {
          "200": {"description": "Model list", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelList"}}}},
          "401": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/completions": {
      "post": {
        "summary": "Continue a text prompt",
        "operationId": "createCompletion",
        "security": [{"bearer": []}, {}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompletionRequest"}}}},
        "responses": {
          "200": {"description": "The completion, or server-sent events when stream is true",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Completion"}},
                              "text/event-stream": {"schema": {"$ref": "#/components/schemas/ServerSentEvent"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "429": {"$ref": "#/components/responses/RateLimited"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      }
    },
    "/v1/chat/completions": {
      "post": {
        "summary": "Answer a conversation",
        "operationId": "createChatCompletion",
        "security": [{"bearer": []}, {}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}}},
        "responses": {
          "200": {"description": "The answer, or server-sent events when stream is true",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}},
                              "text/event-stream": {"schema": {"$ref": "#/components/schemas/ServerSentEvent"}}}},
          "400": {"$ref": "#/components/responses/Error"},
          "401": {"$ref": "#/components/responses/Error"},
          "413": {"$ref": "#/components/responses/Error"},
          "429": {"$ref": "#/components/responses/RateLimited"},
          "503": {"$ref": "#/components/responses/Error"}
        }
      }
    }
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "responses": {
      "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "RateLimited": {
        "description": "All slots busy and the queue full",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
      }
    },
    "schemas": {
      "ServerSentEvent": {
        "description": "One event of the stream: data is a JSON chunk (chat.completion.chunk or text_completion), or [DONE] last",
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "string"}, "event": {"type": "string"}}
      },
      "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["message", "type"], "properties": {
          "message": {"type": "string"}, "type": {"type": "string"},
          "param": {"type": "string", "nullable": true}, "code": {"type": "string", "nullable": true}}}}
      },
      "Health": {
        "type": "object",
        "properties": {"status": {"type": "string"}, "model": {"type": "string"},
                       "slots": {"type": "integer"}, "active": {"type": "integer"}}
      },
      "ModelList": {
        "type": "object",
        "properties": {"object": {"type": "string"}, "data": {"type": "array", "items": {"type": "object", "properties": {
          "id": {"type": "string"}, "object": {"type": "string"}, "created": {"type": "integer"}, "owned_by": {"type": "string"}}}}}
      },
      "Sampling": {
        "type": "object",
        "properties": {
          "max_tokens": {"type": "integer", "minimum": 1, "nullable": true},
          "temperature": {"type": "number", "minimum": 0, "maximum": 2, "nullable": true},
          "top_p": {"type": "number", "minimum": 0, "maximum": 1, "nullable": true},
          "seed": {"type": "integer", "nullable": true},
          "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2, "nullable": true},
          "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2, "nullable": true},
          "logit_bias": {"type": "object", "description": "token id (decimal, below the model's vocabulary size) to a bias", "additionalProperties": {"type": "number", "minimum": -100, "maximum": 100}, "nullable": true},
          "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4}], "nullable": true},
          "n": {"type": "integer", "enum": [1], "nullable": true},
          "stream": {"type": "boolean", "nullable": true},
          "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}, "nullable": true},
          "response_format": {"type": "object", "required": ["type"], "nullable": true,
            "description": "json_object: any JSON object; json_schema: an instance of schema (the subset bitnet.h lists; properties are generated in alphabetical order, as the server reads JSON objects without member order)",
            "properties": {
              "type": {"type": "string", "enum": ["text", "json_object", "json_schema"]},
              "json_schema": {"type": "object", "required": ["schema"], "properties": {
                "name": {"type": "string"}, "strict": {"type": "boolean"}, "schema": {"type": "object"}}}}}
        }
      },
      "CompletionRequest": {
        "allOf": [{"$ref": "#/components/schemas/Sampling"}, {
          "type": "object",
          "required": ["prompt"],
          "properties": {"model": {"type": "string", "nullable": true}, "prompt": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1}]}}
        }]
      },
      "ChatMessage": {
        "type": "object",
        "required": ["role"],
        "description": "content is required except on an assistant message with tool_calls; role tool carries a tool's result",
        "properties": {
          "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
          "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "required": ["type", "text"], "properties": {"type": {"type": "string", "enum": ["text"]}, "text": {"type": "string"}}}}], "nullable": true},
          "tool_calls": {"type": "array", "items": {"$ref": "#/components/schemas/ToolCall"}, "nullable": true},
          "tool_call_id": {"type": "string", "nullable": true}
        }
      },
      "ToolCall": {
        "type": "object",
        "required": ["id", "type", "function"],
        "properties": {"id": {"type": "string"}, "type": {"type": "string", "enum": ["function"]},
                       "function": {"type": "object", "required": ["name", "arguments"], "properties": {
                         "name": {"type": "string"}, "arguments": {"type": "string", "description": "the arguments object as JSON text"}}}}
      },
      "Tool": {
        "type": "object",
        "required": ["type", "function"],
        "properties": {"type": {"type": "string", "enum": ["function"]},
                       "function": {"type": "object", "required": ["name"], "properties": {
                         "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}, "description": {"type": "string"},
                         "parameters": {"type": "object", "description": "JSON Schema of the arguments (the subset bitnet.h lists)"}}}}
      },
      "ChatCompletionRequest": {
        "allOf": [{"$ref": "#/components/schemas/Sampling"}, {
          "type": "object",
          "required": ["messages"],
          "properties": {"model": {"type": "string", "nullable": true}, "max_completion_tokens": {"type": "integer", "minimum": 1, "nullable": true},
                         "messages": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/ChatMessage"}},
                         "tools": {"type": "array", "items": {"$ref": "#/components/schemas/Tool"}, "maxItems": 512, "nullable": true,
                                   "description": "functions the model may call (needs a model with a chat template); the reply is text or calls whose arguments match the schema"},
                         "tool_choice": {"oneOf": [{"type": "string", "enum": ["auto", "required", "none"]},
                                                   {"type": "object", "required": ["type", "function"], "properties": {
                                                     "type": {"type": "string", "enum": ["function"]},
                                                     "function": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}],
                                         "nullable": true}}
        }]
      },
      "Usage": {
        "type": "object",
        "properties": {"prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"},
                       "prompt_tokens_details": {"type": "object", "properties": {"cached_tokens": {"type": "integer"}}}}
      },
      "Completion": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "object": {"type": "string", "enum": ["text_completion"]}, "created": {"type": "integer"},
          "model": {"type": "string"}, "usage": {"$ref": "#/components/schemas/Usage"},
          "choices": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer"}, "text": {"type": "string"},
            "finish_reason": {"type": "string", "enum": ["stop", "length"], "nullable": true}}}}
        }
      },
      "ChatCompletion": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "object": {"type": "string", "enum": ["chat.completion"]}, "created": {"type": "integer"},
          "model": {"type": "string"}, "usage": {"$ref": "#/components/schemas/Usage"},
          "choices": {"type": "array", "items": {"type": "object", "properties": {
            "index": {"type": "integer"},
            "message": {"type": "object", "properties": {"role": {"type": "string"}, "content": {"type": "string", "nullable": true},
                        "tool_calls": {"type": "array", "items": {"$ref": "#/components/schemas/ToolCall"}}}},
            "finish_reason": {"type": "string", "enum": ["stop", "length", "tool_calls"], "nullable": true}}}}
        }
      }
    }
  }
}
"""#

/// The (path, method) pairs the document describes, lower-case methods.
func openAPIOperations() throws -> Set<String> {
    guard case .object(let root) = try JSON.decode(Data(openAPIDocument.utf8)),
          case .object(let paths)? = root["paths"] else { return [] }
    var operations = Set<String>()
    for (path, item) in paths {
        guard case .object(let methods) = item else { continue }
        for method in methods.keys { operations.insert("\(method.lowercased()) \(path)") }
    }
    return operations
}
