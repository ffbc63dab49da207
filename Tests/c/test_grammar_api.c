/* Constrained generation from C: bitnet_grammar_validate and the grammar /
 * json_schema fields of bitnet_generation_params (error paths with
 * line:column and JSON pointers, mutual exclusion, older struct sizes, and
 * generations that follow the grammar in push mode and in streams). */
#include <bitnet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MAX_TEXT 8192

typedef struct text_buffer {
    char text[MAX_TEXT];
    size_t len;
    int calls;
} text_buffer;

static int32_t collect(const char *text, size_t len, const bitnet_token_info *info, void *user_data) {
    text_buffer *b = user_data;
    (void)info;
    b->calls++;
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

static void test_validate(void) {
    CHECK(bitnet_grammar_validate(NULL, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(bitnet_grammar_validate("root ::= \"a\"", "{}") == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("mutually exclusive"));
    CHECK(bitnet_grammar_validate("root ::= [a-z]+ (\",\" [a-z]+)*", NULL) == BITNET_OK);
    CHECK(bitnet_grammar_validate(NULL, "{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}}") == BITNET_OK);

    CHECK(bitnet_grammar_validate("root ::= item\nitem ::= \"x\" undefined-rule", NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("grammar 2:14: undefined rule 'undefined-rule'"));
    CHECK(bitnet_grammar_validate("root ::= \"unterminated", NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("grammar 1:23: unterminated string literal"));
    CHECK(bitnet_grammar_validate("root ::= \"\xff\"", NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("not valid UTF-8"));

    CHECK(bitnet_grammar_validate(NULL, "{\"properties\": {\"a\": {\"not\": {}}}}") == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("json_schema #/properties/a/not: unsupported keyword \"not\""));
    CHECK(bitnet_grammar_validate(NULL, "{\"type\": \"string\", \"format\": \"ipv4\"}") == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("json_schema #/format"));
    CHECK(bitnet_grammar_validate(NULL, "{\"type\": \n  \"string\",}") == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("json_schema 2:12:"));
}

/* Generation errors are reported before anything starts: no callback runs. */
static void test_generation_errors(bitnet_context *ctx) {
    bitnet_generation_params p;
    text_buffer b;
    bitnet_stream *stream = NULL;
    memset(&b, 0, sizeof b);
    bitnet_generation_params_init(&p);
    CHECK(p.grammar == NULL && p.json_schema == NULL);
    p.grammar = "root ::= \"a\"";
    p.json_schema = "{}";
    CHECK(bitnet_generate(ctx, "Hello", &p, collect, &b, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("bitnet_generate: grammar and json_schema are mutually exclusive"));
    p.json_schema = NULL;
    p.grammar = "root ::= (\"a\"";
    CHECK(bitnet_generate(ctx, "Hello", &p, collect, &b, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("bitnet_generate: grammar 1:14: missing )"));
    CHECK(bitnet_stream_start(ctx, "Hello", &p, 4, &stream) == BITNET_E_INVALID_ARGUMENT && stream == NULL);
    CHECK(error_contains("bitnet_stream_start: grammar 1:14"));
    p.grammar = NULL;
    p.json_schema = "{\"type\": \"array\", \"items\": {\"$ref\": \"other.json\"}}";
    CHECK(bitnet_generate(ctx, "Hello", &p, collect, &b, NULL) == BITNET_E_INVALID_ARGUMENT);
    CHECK(error_contains("json_schema #/items/$ref: only local references"));
    CHECK(b.calls == 0);
}

/* A caller compiled before the grammar fields existed: its struct is shorter
 * and whatever follows it in memory must not be read as a grammar pointer. */
static void test_older_struct(bitnet_context *ctx) {
    struct {
        bitnet_generation_params p;
        char junk[64];
    } older;
    text_buffer b;
    bitnet_generation_result r;
    memset(&b, 0, sizeof b);
    memset(&older, 0xAB, sizeof older);
    bitnet_generation_params_init(&older.p);
    memset(&older.p.grammar, 0xAB, sizeof older.p.grammar + sizeof older.p.json_schema);
    older.p.size = (uint32_t)offsetof(bitnet_generation_params, grammar);
    older.p.temperature = 0;
    older.p.max_new_tokens = 5;
    older.p.ignore_eos = 1;
    r.size = sizeof r;
    CHECK(bitnet_generate(ctx, "Hello", &older.p, collect, &b, &r) == BITNET_OK);
    CHECK(r.n_generated == 5);
}

/* Digits only, then a closing brace: a tiny grammar the random model must follow. */
static int is_object_with_digits(const char *s, size_t len) {
    size_t i;
    if (len < 9 || memcmp(s, "{\"n\": ", 6) != 0 || s[len - 1] != '}') return 0;
    for (i = 6; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
    }
    return len - 7 <= 3;
}

static void test_constrained_generation(bitnet_context *ctx) {
    const char *grammar = "root ::= \"{\\\"n\\\": \" [0-9]{1,3} \"}\"";
    int round;
    for (round = 0; round < 4; round++) {
        bitnet_generation_params p;
        bitnet_generation_result r;
        text_buffer b;
        memset(&b, 0, sizeof b);
        bitnet_generation_params_init(&p);
        p.grammar = grammar;
        p.seed = (uint64_t)round;
        p.temperature = round == 0 ? 0.0f : 1.0f;
        p.top_k = round == 2 ? 0 : 40;
        p.top_p = round == 3 ? 0.5f : 1.0f;
        p.max_new_tokens = 64;
        r.size = sizeof r;
        CHECK(bitnet_generate(ctx, "The numbers are", &p, collect, &b, &r) == BITNET_OK);
        CHECK(r.stop_reason == BITNET_STOP_EOS);
        CHECK(is_object_with_digits(b.text, b.len));
        if (!is_object_with_digits(b.text, b.len)) fprintf(stderr, "  round %d: \"%s\"\n", round, b.text);
    }
    {
        /* Cut short by max_new_tokens: the text is a valid prefix. */
        bitnet_generation_params p;
        bitnet_generation_result r;
        text_buffer b;
        memset(&b, 0, sizeof b);
        bitnet_generation_params_init(&p);
        p.grammar = grammar;
        p.temperature = 0;
        p.max_new_tokens = 2;
        r.size = sizeof r;
        CHECK(bitnet_generate(ctx, "The numbers are", &p, collect, &b, &r) == BITNET_OK);
        CHECK(r.stop_reason == BITNET_STOP_MAX_TOKENS && r.n_generated == 2);
        CHECK(b.len > 0 && strncmp(b.text, "{\"n\": ", b.len < 6 ? b.len : 6) == 0);
    }
    {
        /* A JSON Schema, through a stream. */
        bitnet_generation_params p;
        bitnet_stream *stream = NULL;
        char chunk[256];
        size_t len = 0;
        text_buffer b;
        int32_t rc;
        long value = -1;
        char tail[8] = {0};
        memset(&b, 0, sizeof b);
        bitnet_generation_params_init(&p);
        p.json_schema = "{\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\", \"minimum\": 10, "
                        "\"maximum\": 20}}, \"required\": [\"n\"], \"additionalProperties\": false}";
        p.seed = 7;
        p.temperature = 1.0f;
        p.max_new_tokens = 200;
        CHECK(bitnet_stream_start(ctx, "Answer:", &p, 2, &stream) == BITNET_OK);
        while ((rc = bitnet_stream_next(stream, chunk, sizeof chunk, &len, -1)) == BITNET_OK) {
            if (b.len + len < MAX_TEXT) {
                memcpy(b.text + b.len, chunk, len);
                b.len += len;
            }
        }
        CHECK(rc == BITNET_DONE);
        {
            bitnet_generation_result r;
            r.size = sizeof r;
            CHECK(bitnet_stream_result(stream, &r) == BITNET_OK && r.stop_reason == BITNET_STOP_EOS);
        }
        bitnet_stream_free(stream);
        /* {"n": 15} with any whitespace the grammar allows. */
        {
            const char *s = strstr(b.text, "\"n\"");
            const char *colon = s ? strchr(s, ':') : NULL;
            CHECK(b.text[0] == '{' && colon != NULL);
            if (colon) CHECK(sscanf(colon + 1, " %ld %7s", &value, tail) >= 1);
            CHECK(value >= 10 && value <= 20);
            if (!(value >= 10 && value <= 20)) fprintf(stderr, "  schema output: \"%s\"\n", b.text);
        }
    }
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
    snprintf(path, sizeof path, "%s/golden/m1-b158-relu2-i2_s.gguf", argv[1]);
    if (bitnet_model_load(path, NULL, &model) != BITNET_OK) {
        fprintf(stderr, "cannot load %s: %s\n", path, bitnet_last_error());
        return 1;
    }
    bitnet_context_params_init(&cp);
    cp.n_ctx = 512;
    cp.n_threads = 2;
    if (bitnet_context_new(model, &cp, &ctx) != BITNET_OK) {
        fprintf(stderr, "cannot create a context: %s\n", bitnet_last_error());
        return 1;
    }
    test_generation_errors(ctx);
    test_older_struct(ctx);
    test_constrained_generation(ctx);
    bitnet_context_free(ctx);
    bitnet_model_free(model);
    return CHECK_DONE();
}
