"""Loading compose files into a project: pure code, no engine, no anyio.

The phases run in this order (see ``loader.py``); each is its module, with the
helper modules that serve only it in brackets:

1. discovery      -- which files, which project folder, which name
2. dotenv         -- the project's ``.env`` / ``--env-file`` into the environment
3. source         -- YAML to plain values, with a source map of line/column marks
                     [sourcemap: the values it produces (SourceMap, Document,
                     Reset, Override); yamlbuild: YAML events to values and marks;
                     scalar: yaml.v3's scalar resolution; yamltext: encodings,
                     the event parser, YAML error messages]
4. interpolation  -- ``${VAR}`` substitution in values, then typed casts
5. schema         -- the compose-spec JSON schema, per file
                     [schemacompile: the schema loaded and compiled to closures]
6. canonical      -- short syntaxes expanded to long ones, per file
                     [shortsyntax: the port and volume specs]
7. include        -- sub-projects pulled in by ``include:``
8. extends        -- services inheriting from other services
9. paths          -- relative paths made absolute
10. merge         -- several ``-f`` files into one, by the merge table
11. profiles      -- services not enabled are dropped
12. normalize     -- defaults, implicit default network, resource names, env_file
                     [environment: env_file and environment entries; typed: the
                     typed rendering by compose-go's field table; shellwords:
                     command strings split]
13. validate      -- semantic checks (undefined references, cycles, ...)

The loader's result (``LoadedProject``) holds the project as v2's JSON shows it
and, as ``LoadedProject.model``, the typed :mod:`composer.model` project. Beside
the phases: ``untyped`` (the untyped model ``config --no-interpolate`` prints),
``variables`` (``config --variables``) and ``yamlout`` (the project printed as v2
prints it, JSON and YAML).
"""
