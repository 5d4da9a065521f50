# {{workspace_title}}

A flash workspace: categories `NN_name/`, each holding examples `NN_name/` that are Bun workspace packages.

```bash
flash init NN_category/NN_example   # add an example (inside a category: flash init NN_example)
bun install                         # link new examples as workspace packages
flash run --watch                   # serve every example at http://localhost:8888 (docs at /docs)
flash test                          # run every example's tests (flash test <dir> for one)
flash deps --check                  # check that the examples' dependencies agree
```

Write examples as `AGENTS.md` says (coding assistants read it too; `CLAUDE.md` points to it): start each one with
`flash init`, export every remote function, pass JSON values only, and run `flash deps --check` and `flash test`
before you commit.
