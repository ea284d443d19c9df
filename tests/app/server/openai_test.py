"""`sieve serve` against the official `openai` npm package: installs it
(package.json + package-lock.json beside this file, `npm ci`) into WORK_DIR
once, starts the server and runs openai_client.mjs against it.

usage: openai_test.py SIEVE MODEL WORK_DIR"""

import os
import shutil
import subprocess
import sys

from serve_process import ServeProcess

HERE = os.path.dirname(os.path.abspath(__file__))


def install_client(work_dir):
    os.makedirs(work_dir, exist_ok=True)
    for name in ("package.json", "package-lock.json", "openai_client.mjs"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(work_dir, name))
    if not os.path.isfile(os.path.join(work_dir, "node_modules", "openai", "package.json")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work_dir, check=True,
                       timeout=300)


def main(sieve, model, work_dir):
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("node and npm are needed (Debian: nodejs, npm; .ci/install-deps)", file=sys.stderr)
        return 1
    install_client(work_dir)
    with ServeProcess(sieve, model, "--api-key", "sk-test-key") as server:
        client = subprocess.run(["node", os.path.join(work_dir, "openai_client.mjs"), server.url], timeout=120)
        code = server.stop()
        if code != 0:
            print(f"sieve serve exited with {code}", file=sys.stderr)
            return 1
        if client.returncode != 0:
            print("server log:\n" + "\n".join(server.log()), file=sys.stderr)
        return client.returncode


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
