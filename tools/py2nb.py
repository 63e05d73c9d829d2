"""Create a notebook from a percent-format script (an authoring aid).

The .ipynb file in notebooks/ is the source of truth; this tool only helps
write a new lesson quickly. Format of the script:

    # %% [markdown]
    # # A heading
    # Some prose.
    # %%
    x = 1
    # %% tags=raises-exception,nbval-ignore-output hidden

``hidden`` collapses the cell's source (for "Check yourself" solutions).
Cell ids are deterministic (``c01``, ``c02``...) so diffs stay small.

Usage: python tools/py2nb.py lesson.py notebooks/NN_topic.ipynb
Then run ``python tools/refresh_notebooks.py notebooks/NN_topic.ipynb``.
"""

from __future__ import annotations

import pathlib
import sys

import nbformat


def convert(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    chunks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            chunks.append((line[4:].strip(), []))
        elif chunks:
            chunks[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' marker: {line!r}")
    for n, (header, lines) in enumerate(chunks, 1):
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if header.startswith("[markdown]"):
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines)
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
            for word in header.split():
                if word.startswith("tags="):
                    cell.metadata["tags"] = [t for t in word[5:].split(",") if t]
                elif word == "hidden":
                    cell.metadata["jupyter"] = {"source_hidden": True}
                else:
                    raise ValueError(f"cell {n}: unknown header word {word!r}")
        cell["id"] = f"c{n:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    src, dst = map(pathlib.Path, argv)
    nbformat.write(convert(src.read_text()), dst)
    print(f"wrote {dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
