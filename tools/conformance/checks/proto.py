"""Protocol Buffers: protoc (from grpcio-tools, with the well-known types) compiles every file of an include
root (the nearest ancestor folder named `proto`), and `buf lint` applies buf's default rules to it."""

from __future__ import annotations

import os

from .context import Context
from .tree import Tree


def root_key(ctx: Context, tree: Tree, validator: str, root: str, files: list) -> tuple:
    """protoc and buf read the include root (imports resolve inside it) and, for buf, buf.yaml or buf.work.yaml
    in the folders above it up to the tree root (its working folder)."""
    digests = ctx.memo.digests
    above = []
    folder = os.path.dirname(root)
    while folder:
        above += [(folder, n, digests.tree_file(tree, os.path.join(folder, n))) for n in BUF_FILES]
        folder = os.path.dirname(folder)
    above += [(".", n, digests.tree_file(tree, n)) for n in BUF_FILES]
    return (validator, root, tuple(files), digests.folder(tree.path(root)), tuple(above))


BUF_FILES = ("buf.yaml", "buf.work.yaml", "buf.gen.yaml", "buf.lock")


def protoc(ctx: Context, tree: Tree) -> None:
    python = ctx.venv_bin("python")
    if not tree.proto_roots:
        return
    if not ctx.memo_value("grpc_tools", lambda: ctx.run([python, "-c", "import grpc_tools.protoc"])[0] == 0):
        ctx.require(None, "grpcio-tools", "protoc", tree)
        return

    def compile_root(root: str, files: list) -> None:
        out = ctx.scratch(f"protoc-{abs(hash((tree.root, root)))}")
        cmd = [
            python,
            "-m",
            "grpc_tools.protoc",
            f"-I{root}",
            f"--python_out={out}",
            f"--grpc_python_out={out}",
            f"--descriptor_set_out={os.path.join(out, 'set.pb')}",
            *files,
        ]
        status, output = ctx.run(cmd, cwd=tree.root, timeout=120)
        ctx.verdict("protoc", tree, root, [output] if status else [], f"protoc compiles {len(files)} file(s)")

    for root, files in sorted(tree.proto_roots.items()):
        ctx.once(root_key(ctx, tree, "protoc", root, files), tree, root, lambda r=root, f=files: compile_root(r, f))


def buf_lint(ctx: Context, tree: Tree) -> None:
    tool = ctx.find_tool("buf")
    if not tree.proto_roots or not ctx.require(tool, "buf", "buf-lint", tree):
        return
    env = {**os.environ, "BUF_CACHE_DIR": ctx.scratch("buf-cache")}

    def lint(root: str) -> None:
        status, output = ctx.run([tool, "lint", "--error-format", "text", root], cwd=tree.root, env=env, timeout=120)
        ctx.verdict("buf-lint", tree, root, [output] if status else [], "buf lint, default rules")

    for root, files in sorted(tree.proto_roots.items()):
        ctx.once(root_key(ctx, tree, "buf-lint", root, files), tree, root, lambda r=root: lint(r))
