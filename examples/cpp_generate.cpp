// The README's C++ example:
//   c++ -std=c++17 -I bindings/cpp cpp_generate.cpp $(pkg-config --cflags --libs bitnet) -o cpp_generate
//   ./cpp_generate MODEL.gguf
#include <bitnet.hpp>

#include <iostream>

int main(int argc, char **argv) {
    if (argc < 2) return 1;
    try {
        bitnet::Model model(argv[1]);
        bitnet::Context ctx(model);
        auto gen = bitnet::GenerationParams::greedy(32);
        std::cout << ctx.generate("The ternary weights were", gen) << "\n";

        // Push mode: a lambda per chunk; return an Action to pause or cancel.
        bitnet::Result r = ctx.generate("Once upon a time", gen, [](std::string_view chunk, const bitnet_token_info &info) {
            std::cout << chunk;
            return info.n_generated % 8 == 0 ? bitnet::Action::Pause : bitnet::Action::Continue;
        });
        while (r.paused()) r = ctx.resume([](std::string_view chunk, const bitnet_token_info &) { std::cout << chunk; });
        std::cout << "\n" << r.n_generated << " tokens\n";

        // Pull mode: chunks from the library's thread.
        auto stream = ctx.stream("In a world", gen);
        while (auto chunk = stream.next()) std::cout << *chunk;
        std::cout << "\n";

        bitnet::Model missing("missing.gguf");  // throws
    } catch (const bitnet::Error &e) {
        std::cout << "as expected: " << e.status_name() << ": " << e.what() << "\n";
        return e.status() == BITNET_E_IO ? 0 : 1;
    }
    return 1;
}
