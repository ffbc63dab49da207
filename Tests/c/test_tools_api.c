/* Tool calls from C: bitnet_tools_validate (JSON pointers in errors),
 * bitnet_apply_chat_template_tools (the families' layouts),
 * bitnet_tool_calls_parse / _free (hand-written replies, malformed ones,
 * misuse) and generations with tools_json / tool_choice / tool_template whose
 * every reply parses as calls of the given tools. */
#include <bitnet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MAX_TEXT 16384

typedef struct text_buffer {
    char text[MAX_TEXT];
    size_t len;
} text_buffer;

static int32_t collect(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    text_buffer *b = user_data;
    (void)info;
    if (b->len + len < MAX_TEXT) {
        memcpy(b->text + b->len, text, len);
        b->len += len;
        b->text[b->len] = 0;
    }
    return BITNET_CONTINUE;
}

static int error_contains(const char *needle) {
    const char *message = bitnet_last_error();
    if (message && strstr(message, needle)) return 1;
    fprintf(stderr, "  last error \"%s\" lacks \"%s\"\n", message ? message : "(null)", needle);
    return 0;
}

static const char *TOOLS =
    "[{\"type\": \"function\", \"function\": {\"name\": \"add\", \"description\": \"Adds\", \"parameters\": "
    "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"integer\"}}, "
    "\"required\": [\"a\", \"b\"], \"additionalProperties\": false}}}, "
    "{\"type\": \"function\", \"function\": {\"name\": \"echo\", \"parameters\": {\"type\": \"object\", "
    "\"properties\": {\"text\": {\"type\": \"string\", \"maxLength\": 12}}, \"required\": [\"text\"], "
    "\"additionalProperties\": false}}}]";

static void test_validate(void) {
    CHECK(bitnet_tools_validate(NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_tools_validate(TOOLS, NULL) == BITNET_OK);
    CHECK(bitnet_tools_validate(TOOLS, "required") == BITNET_OK);
    CHECK(bitnet_tools_validate(TOOLS, "{\"type\": \"function\", \"function\": {\"name\": \"echo\"}}") == BITNET_OK);
    CHECK(bitnet_tools_validate(TOOLS, "{\"type\": \"function\", \"function\": {\"name\": \"nope\"}}") == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("tool_choice /function/name: no tool is named \"nope\""));
    CHECK(bitnet_tools_validate("[]", "required") == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_tools_validate("[{\"type\": \"function\", \"function\": {\"name\": 7}}]", NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("bitnet_tools_validate: tools /0/function/name: must be a string"));
    CHECK(bitnet_tools_validate("[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": "
                                "{\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"string\", \"format\": \"ipv4\"}}}}}]",
                                NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("tools /0/function/parameters #/properties/x/format"));
    CHECK(bitnet_tools_validate("[{", NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("tools 1:"));
    CHECK(bitnet_tools_validate("[\"\xff\"]", NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("not valid UTF-8"));
}

static void test_render(void) {
    char buf[4096];
    size_t len = 0;
    const char *tool = "[{\"type\": \"function\", \"function\": {\"name\": \"ping\", \"parameters\": {\"type\": \"object\"}}}]";
    const char *messages = "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": null, "
                           "\"tool_calls\": [{\"id\": \"call_1\", \"type\": \"function\", \"function\": {\"name\": \"ping\", "
                           "\"arguments\": \"{}\"}}]}, {\"role\": \"tool\", \"content\": \"pong\"}]";
    const char *expected =
        "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
        "{\"type\": \"function\", \"function\": {\"name\": \"ping\", \"parameters\": {\"type\": \"object\"}}}\n</tools>\n\n"
        "For each function call, return a json object with function name and arguments within <tool_call></tool_call> "
        "XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
        "<|im_start|>user\nhi<|im_end|>\n"
        "<|im_start|>assistant\n<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call><|im_end|>\n"
        "<|im_start|>user\n<tool_response>\npong\n</tool_response><|im_end|>\n<|im_start|>assistant\n";
    CHECK(bitnet_apply_chat_template_tools(NULL, "chatml", messages, tool, 1, buf, sizeof buf, &len) == BITNET_OK);
    CHECK(strcmp(buf, expected) == 0);
    CHECK(len == strlen(expected));
    if (strcmp(buf, expected) != 0) fprintf(stderr, "  got: %s\n", buf);
    CHECK(bitnet_apply_chat_template_tools(NULL, "chatml", messages, tool, 1, buf, 10, &len) == BITNET_E_BUFFER_TOO_SMALL);
    CHECK(len == strlen(expected));
    /* Without tools and calls: exactly bitnet_apply_chat_template. */
    {
        const char *roles[] = {"user"}, *contents[] = {"hi"};
        char plain[256];
        size_t plain_len = 0;
        CHECK(bitnet_apply_chat_template(NULL, "llama3", roles, contents, 1, 1, plain, sizeof plain, &plain_len) ==
              BITNET_E_INVALID_ARGUMENT); /* that one needs a model */
        CHECK(bitnet_apply_chat_template_tools(NULL, "llama3", "[{\"role\": \"user\", \"content\": \"hi\"}]", NULL, 1, buf,
                                               sizeof buf, &len) == BITNET_OK);
        CHECK(strcmp(buf, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                          "<|start_header_id|>assistant<|end_header_id|>\n\n") == 0);
    }
    CHECK(bitnet_apply_chat_template_tools(NULL, "chatml", "[{\"role\": 1}]", NULL, 1, buf, sizeof buf, &len) ==
          BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("messages /0/role: must be a string"));
    CHECK(bitnet_apply_chat_template_tools(NULL, "chatml", NULL, NULL, 1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_apply_chat_template_tools(NULL, NULL, "[]", NULL, 1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_apply_chat_template_tools(NULL, "jinja", "[]", NULL, 1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_apply_chat_template_tools(NULL, "llama3", "[]", tool, 1, buf, sizeof buf, &len) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("first user message"));
}

static void test_parse(void) {
    bitnet_tool_calls *calls = NULL;
    const char *reply = "Adding.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>";
    const char *llama = "{\"name\": \"echo\", \"parameters\": {\"text\": \"x\"}}";
    CHECK(bitnet_tool_calls_parse(NULL, "chatml", reply, strlen(reply), &calls) == BITNET_OK);
    if (calls) {
        CHECK(calls->n_calls == 1);
        CHECK(strcmp(calls->content, "Adding.") == 0);
        CHECK(strcmp(calls->calls[0].name, "add") == 0);
        CHECK(strcmp(calls->calls[0].arguments_json, "{\"a\":1,\"b\":2}") == 0);
        CHECK(strncmp(calls->calls[0].id, "call_", 5) == 0 && strlen(calls->calls[0].id) == 29);
        CHECK(calls->calls[0].size == sizeof(bitnet_tool_call));
    }
    bitnet_tool_calls_free(calls);
    CHECK(bitnet_tool_calls_parse(NULL, "llama3", llama, strlen(llama), &calls) == BITNET_OK);
    if (calls) {
        CHECK(calls->n_calls == 1 && strcmp(calls->calls[0].name, "echo") == 0 && calls->content[0] == 0);
    }
    bitnet_tool_calls_free(calls);
    /* Not calls: the whole reply is text. Length is honoured (no NUL needed). */
    CHECK(bitnet_tool_calls_parse(NULL, "chatml", "<tool_call>{bad}</tool_call>XYZ", 28, &calls) == BITNET_OK);
    if (calls) {
        CHECK(calls->n_calls == 0 && calls->calls == NULL && strcmp(calls->content, "<tool_call>{bad}</tool_call>") == 0);
    }
    bitnet_tool_calls_free(calls);
    CHECK(bitnet_tool_calls_parse(NULL, "chatml", NULL, 0, &calls) == BITNET_OK);
    if (calls) CHECK(calls->n_calls == 0 && calls->content[0] == 0);
    bitnet_tool_calls_free(calls);
    bitnet_tool_calls_free(NULL);
    calls = (bitnet_tool_calls *)1;
    CHECK(bitnet_tool_calls_parse(NULL, "chatml", NULL, 5, &calls) == BITNET_E_INVALID_ARGUMENT && calls == NULL);
    CHECK(bitnet_tool_calls_parse(NULL, "chatml", "x", 1, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_tool_calls_parse(NULL, "chatml", "\xff", 1, &calls) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_tool_calls_parse(NULL, "chatml", "x", (size_t)-1, &calls) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_tool_calls_parse(NULL, NULL, "x", 1, &calls) == BITNET_E_INVALID_ARGUMENT);
}

static void test_generation(bitnet_context *ctx) {
    bitnet_generation_params p;
    bitnet_generation_result r;
    text_buffer b;
    int seed, parsed_calls = 0;
    const char *choices[] = {"required", "echo", "auto"};
    /* Errors before anything starts. */
    bitnet_generation_params_init(&p);
    p.tool_choice = "required";
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("tool_choice needs tools_json"));
    p.tools_json = TOOLS;
    p.grammar = "root ::= \"a\"";
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("mutually exclusive"));
    p.grammar = NULL;
    p.tool_template = "nope";
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    p.tool_template = "chatml";
    p.tools_json = "[{\"type\": \"function\"}]";
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("bitnet_generate: tools /0/function: must be an object"));

    /* An older caller (struct without the tool fields) still generates. */
    bitnet_generation_params_init(&p);
    p.size = (uint32_t)offsetof(bitnet_generation_params, tools_json);
    p.max_new_tokens = 4;
    CHECK(bitnet_generate(ctx, "x", &p, NULL, NULL, NULL) == BITNET_OK);

    /* Random weights: the text is noise, yet every finished reply parses as calls. */
    for (seed = 1; seed <= 6; seed++) {
        bitnet_tool_calls *calls = NULL;
        const char *choice = choices[seed % 3];
        bitnet_generation_params_init(&p);
        p.tools_json = TOOLS;
        p.tool_choice = choice;
        p.tool_template = "chatml";
        p.seed = (uint64_t)seed;
        p.temperature = 1.0f;
        p.max_new_tokens = 300;
        p.parse_special = 1;
        p.add_bos = 0;
        memset(&b, 0, sizeof b);
        r.size = sizeof r;
        CHECK(bitnet_generate(ctx, "<|im_start|>user\nadd 1 and 2<|im_end|>\n<|im_start|>assistant\n", &p, collect, &b, &r) ==
              BITNET_OK);
        if (r.stop_reason != BITNET_STOP_EOS) continue; /* a valid prefix at the limit */
        CHECK(bitnet_tool_calls_parse(NULL, "chatml", b.text, b.len, &calls) == BITNET_OK);
        if (!calls) continue;
        if (strcmp(choice, "auto") != 0) CHECK(calls->n_calls >= 1);
        for (size_t i = 0; i < calls->n_calls; i++) {
            parsed_calls++;
            CHECK(strcmp(calls->calls[i].name, "add") == 0 || strcmp(calls->calls[i].name, "echo") == 0);
            if (strcmp(choice, "echo") == 0) CHECK(strcmp(calls->calls[i].name, "echo") == 0);
            CHECK(calls->calls[i].arguments_json[0] == '{');
        }
        bitnet_tool_calls_free(calls);
    }
    printf("  %d calls parsed from constrained replies\n", parsed_calls);
}

int main(int argc, char **argv) {
    char path[1024];
    bitnet_model *model = NULL;
    bitnet_context *ctx = NULL;
    bitnet_context_params cp;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURES_DIR\n", argv[0]);
        return 2;
    }
    test_validate();
    test_render();
    test_parse();
    snprintf(path, sizeof path, "%s/families/qwen3.tq2_0.gguf", argv[1]);
    if (bitnet_model_load(path, NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, bitnet_last_error());
        return 1;
    }
    bitnet_context_params_init(&cp);
    cp.n_ctx = 1024;
    cp.n_threads = 2;
    if (bitnet_context_new(model, &cp, &ctx) != BITNET_OK) {
        fprintf(stderr, "cannot create a context: %s\n", bitnet_last_error());
        return 1;
    }
    test_generation(ctx);
    bitnet_context_free(ctx);
    bitnet_model_free(model);
    return CHECK_DONE();
}
