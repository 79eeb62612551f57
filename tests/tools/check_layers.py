#!/usr/bin/env python3
"""The module layering of src/, checked from the #include lines.

Each folder under src/ is a module; each public header in include/logseal/
belongs to one. A module may include its own headers and those of the
modules it is allowed to depend on (LAYERS); anything else is an upward
include or a cycle. <uv.h> is for the loop modules only.

usage: check_layers.py SOURCE_ROOT   (exit 1 and one line per violation)
"""
import os
import re
import sys

# module -> the modules it may use (besides itself)
LAYERS = {
    'core': set(),
    'token': {'core'},
    'rules': {'core', 'token'},
    'vault': {'core', 'token'},
    'pipeline': {'core', 'token', 'rules', 'vault'},
    'source': {'core', 'token', 'rules', 'vault', 'pipeline'},
    'sink': {'core', 'token', 'rules', 'vault', 'pipeline'},
    'daemon': {'core', 'token', 'rules', 'vault', 'pipeline', 'source',
               'sink'},
    'cli': {'core', 'token', 'rules', 'vault', 'pipeline', 'source', 'sink',
            'daemon'},
}
LOOP_MODULES = {'pipeline', 'source', 'sink', 'daemon'}

# include/logseal/<header> -> its module
HEADERS = {
    'common.h': 'core', 'buf.h': 'core', 'log.h': 'core', 'file.h': 'core',
    'checkpoint.h': 'core', 'array.h': 'core',
    'token.h': 'token',
    'rules.h': 'rules',
    'vault.h': 'vault', 'vaultset.h': 'vault', 'auditlog.h': 'vault',
    'legal.h': 'vault', 'sidx.h': 'vault',
    'batch.h': 'pipeline', 'pipeline.h': 'pipeline', 'splitter.h': 'pipeline',
    'source.h': 'source',
    'sink.h': 'sink', 'kafka.h': 'sink',
    'config.h': 'daemon', 'daemon.h': 'daemon',
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def module_of_header(rel):
    """Module of a quoted include as written in src/ or include/."""
    if rel.startswith('logseal/'):
        return HEADERS.get(rel[len('logseal/'):], '?')
    if rel.startswith('src/'):
        return rel.split('/')[1]
    return None  # a module's own internal header, by relative name


def check_file(path, module, problems):
    text = open(path, encoding='utf-8').read()
    for kind, rel in INCLUDE.findall(text):
        if kind == '<':
            if rel == 'uv.h' and module not in LOOP_MODULES:
                problems.append(f'{path}: <uv.h> outside the loop modules')
            continue
        dep = module_of_header(rel)
        if dep == '?':
            problems.append(f'{path}: {rel} is in no module (add it to '
                            f'HEADERS in {os.path.basename(__file__)})')
        elif dep and dep != module and dep not in LAYERS[module]:
            problems.append(f'{path}: {module} includes {rel} ({dep})')


def main(root):
    problems = []
    for name in sorted(os.listdir(os.path.join(root, 'include/logseal'))):
        if name.endswith('.h'):
            path = os.path.join(root, 'include/logseal', name)
            if name not in HEADERS:
                problems.append(f'{path}: in no module (add it to HEADERS)')
                continue
            check_file(path, HEADERS[name], problems)
    src = os.path.join(root, 'src')
    for module in sorted(os.listdir(src)):
        if module not in LAYERS:
            continue
        for dirpath, _, files in os.walk(os.path.join(src, module)):
            for f in sorted(files):
                if f.endswith(('.c', '.h')) and 'no-uv' not in dirpath:
                    check_file(os.path.join(dirpath, f), module, problems)
    for p in problems:
        print(p)
    print(f'{len(problems)} layering problem(s)' if problems
          else 'layers: no upward include, no cycle')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else '.'))
