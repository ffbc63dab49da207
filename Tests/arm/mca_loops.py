#!/usr/bin/env python3
"""Prints the body of one innermost loop of a clang assembly file, for llvm-mca.

    mca_loops.py FILE.s FUNCTION MNEMONIC[,MNEMONIC...]=COUNT

picks the first innermost loop (a label clang marks "Inner Loop Header", up to
the branch back to it) inside FUNCTION (the enclosing global symbol, a
substring match; static functions clang kept are symbols too) whose
instructions include exactly COUNT of the given mnemonics. Exits 1 when no
loop matches, listing the candidates.
"""
import re
import sys


def innermost_loops(lines):
    function, loops = None, []
    for i, line in enumerate(lines):
        symbol = re.match(r'^([A-Za-z_][\w.]*):', line)
        if symbol and not line.startswith('.L'):
            function = symbol.group(1)
        label = re.match(r'^(\.LBB\w+):', line)
        if not label:
            continue
        comments = [line] + [l for l in lines[i + 1:i + 8] if l.strip().startswith(('//', '#'))]
        if not any('Inner Loop Header' in c for c in comments):
            continue
        back = re.compile(r'^\s+(b|b\.\w+|cbn?z|tbn?z|j\w+)\s.*' + re.escape(label.group(1)) + r'\b')
        for j in range(i + 1, min(i + 4000, len(lines))):
            if back.match(lines[j]):
                body = [l for l in lines[i + 1:j + 1]
                        if l.strip() and not l.strip().startswith(('.', '//', '#')) and not re.match(r'^\.L\w+:', l)]
                loops.append((function, label.group(1), body))
                break
    return loops


def main():
    path, function, selector = sys.argv[1:4]
    names, count = selector.split('=')
    names = set(names.split(','))
    loops = innermost_loops(open(path).read().split('\n'))
    for f, label, body in loops:
        if function in f and sum(1 for l in body if l.split()[0] in names) == int(count):
            print('\n'.join(body))
            return 0
    print(f'no loop in {function} with {count} of {sorted(names)}; candidates:', file=sys.stderr)
    for f, label, body in loops:
        if function in f:
            print(f'  {label}: {len(body)} instructions, {sum(1 for l in body if l.split()[0] in names)} matching',
                  file=sys.stderr)
    return 1


if __name__ == '__main__':
    sys.exit(main())
