"""Protocol Buffers: protoc (from grpcio-tools, with the well-known types) compiles every file of an include
root (the nearest ancestor folder named `proto`), and `buf lint` applies buf's default rules to it."""

from __future__ import annotations

import os

from .context import Context
from .tree import Tree


def protoc(ctx: Context, tree: Tree) -> None:
    python = ctx.venv_bin("python")
    for root, files in sorted(tree.proto_roots.items()):
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
        if status != 0 and "No module named grpc_tools" in output:
            ctx.require(None, "grpcio-tools", "protoc", tree)
            return
        ctx.verdict("protoc", tree, root, [output] if status else [], f"protoc compiles {len(files)} file(s)")


def buf_lint(ctx: Context, tree: Tree) -> None:
    tool = ctx.find_tool("buf")
    if not tree.proto_roots or not ctx.require(tool, "buf", "buf-lint", tree):
        return
    env = {**os.environ, "BUF_CACHE_DIR": ctx.scratch("buf-cache")}
    for root in sorted(tree.proto_roots):
        status, output = ctx.run([tool, "lint", "--error-format", "text", root], cwd=tree.root, env=env, timeout=120)
        ctx.verdict("buf-lint", tree, root, [output] if status else [], "buf lint, default rules")
