"""Loading compose files into a project: pure code, no engine, no anyio.

The phases run in this order (see ``loader.py``):

1. discovery      -- which files, which project folder, which name
2. dotenv         -- the project's ``.env`` / ``--env-file`` into the environment
3. source         -- YAML to plain values, with a source map of line/column marks
4. interpolation  -- ``${VAR}`` substitution in values, then typed casts
5. schema         -- the compose-spec JSON schema, per file
6. canonical      -- short syntaxes expanded to long ones, per file
7. include        -- sub-projects pulled in by ``include:``
8. extends        -- services inheriting from other services
9. paths          -- relative paths made absolute
10. merge         -- several ``-f`` files into one, by the merge table
11. profiles      -- services not enabled are dropped
12. normalize     -- defaults, implicit default network, resource names, env_file
13. validate      -- semantic checks (undefined references, cycles, ...)
"""
