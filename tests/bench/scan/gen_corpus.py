#!/usr/bin/env python3
"""Writes the generated part of the scan benchmark corpus.

    python3 gen_corpus.py OUT_DIR

Registry packages bring plenty of Python, JS/TS, Go and Rust, but almost no SQL migrations,
Terraform, deployment scripts or CI files: the languages where risky code lives. This fills
that gap with files shaped like a real infrastructure repository (migrations, modules, scripts,
workflows, manifests), with a small share of risky constructs so that both tools have findings.

Deterministic: a fixed seed and only `random.Random` methods whose output has been stable across
Python 3 releases (random, randint, choice); the same OUT_DIR content on every machine.
"""

import os
import random
import sys

SEED = 20261125

# Lines per language, roughly: the whole corpus aims at about a million lines, like the
# DESIGN.md anchor, and these are the parts no package provides.
SQL_FILES = 1400  # ~45 lines each
HCL_MODULES = 260  # 3 files, ~150 lines per module
SHELL_FILES = 420  # ~75 lines each
WORKFLOW_FILES = 220  # ~60 lines each
K8S_FILES = 160  # ~70 lines each
APP_FILES = 60  # per language (Python, JS, TS, Go, Rust)

WORDS = (
    "account order invoice payment customer session audit event user tenant product price "
    "shipment inventory report metric alert job task queue token device address profile "
    "review comment ledger refund coupon cart warehouse supplier contract plan quota"
).split()
ENVS = ["dev", "staging", "qa", "production", "prod", "sandbox", "preview"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"]
SQL_TYPES = [
    "integer", "bigint", "text", "varchar(255)", "boolean", "timestamptz", "numeric(12,2)",
    "jsonb", "uuid", "date",
]


class Gen:
    def __init__(self, out):
        self.out = out
        self.r = random.Random(SEED)

    # helpers ---------------------------------------------------------------------------------
    def chance(self, p):
        return self.r.random() < p

    def word(self):
        return self.r.choice(WORDS)

    def ident(self, n=2):
        return "_".join(self.word() for _ in range(n))

    def write(self, rel, text):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    # SQL -------------------------------------------------------------------------------------
    def sql_create(self, table):
        cols = ["    id bigserial PRIMARY KEY"]
        for _ in range(self.r.randint(3, 9)):
            null = "" if self.chance(0.5) else " NOT NULL"
            cols.append(f"    {self.ident(1)}_{self.ident(1)} {self.r.choice(SQL_TYPES)}{null}")
        cols.append("    created_at timestamptz NOT NULL DEFAULT now()")
        body = ",\n".join(cols)
        return f"CREATE TABLE IF NOT EXISTS {table} (\n{body}\n);\n"

    def sql_statement(self, table):
        col = f"{self.word()}_{self.word()}"
        k = self.r.randint(0, 99)
        if k < 14:
            return f"ALTER TABLE {table} ADD COLUMN {col} {self.r.choice(SQL_TYPES)};\n"
        if k < 26:
            return f"CREATE INDEX IF NOT EXISTS idx_{table}_{col} ON {table} ({col});\n"
        if k < 44:
            vals = ", ".join(f"'{self.word()}'" for _ in range(3))
            return (f"INSERT INTO {table} (name, kind, status)\nVALUES ({vals})\n"
                    f"ON CONFLICT DO NOTHING;\n")
        if k < 58:
            return (f"UPDATE {table}\n   SET status = '{self.word()}', updated_at = now()\n"
                    f" WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' LIMIT 1000);\n")
        if k < 72:
            return (f"SELECT t.id, t.{col}, count(*) AS n\n  FROM {table} t\n"
                    f"  JOIN {self.word()}s x ON x.{table}_id = t.id\n"
                    f" WHERE t.created_at > now() - interval '{self.r.randint(1, 90)} days'\n"
                    f" GROUP BY t.id, t.{col}\n ORDER BY n DESC;\n")
        if k < 80:
            return f"DELETE FROM {table} WHERE created_at < now() - interval '1 year';\n"
        if k < 86:
            return f"COMMENT ON TABLE {table} IS 'owned by the {self.word()} team';\n"
        # The risky share, as in real migration folders: cleanups and rewrites.
        risky = [
            f"DROP TABLE IF EXISTS {table}_old;\n",
            f"ALTER TABLE {table} DROP COLUMN IF EXISTS legacy_{col};\n",
            f"TRUNCATE TABLE {table}_staging;\n",
            f"DELETE FROM {table}_tmp;\n",
            f"ALTER TABLE {table} RENAME COLUMN {col} TO {col}_v2;\n",
            f"DROP INDEX IF EXISTS idx_{table}_{col};\n",
            f"UPDATE {table} SET archived = true;\n",
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{col}_fkey;\n",
            f"DROP VIEW IF EXISTS {table}_summary;\n",
        ]
        return self.r.choice(risky)

    def gen_sql(self):
        for i in range(SQL_FILES):
            table = f"{self.word()}_{self.word()}s"
            parts = [f"-- Migration {i + 1:05d}: {self.word()} {self.word()} changes\n",
                     "BEGIN;\n\n", self.sql_create(table), "\n"]
            for _ in range(self.r.randint(4, 10)):
                parts.append(self.sql_statement(table))
                parts.append("\n")
            parts.append("COMMIT;\n")
            svc = self.r.choice(["billing", "accounts", "catalog", "orders", "search", "ledger"])
            self.write(f"generated/services/{svc}/db/migrate/{i + 1:05d}_{table}.sql",
                       "".join(parts))

    # HCL / Terraform -------------------------------------------------------------------------
    def hcl_bool(self, risky_value, safe_value, p):
        return risky_value if self.chance(p) else safe_value

    def hcl_resource(self, name):
        k = self.r.randint(0, 6)
        env = self.r.choice(ENVS)
        tags = (f"  tags = {{\n    Name        = \"{name}\"\n    Environment = \"{env}\"\n"
                f"    Team        = \"{self.word()}\"\n  }}\n")
        if k == 0:
            fd = self.hcl_bool("true", "false", 0.25)
            acl = self.r.choice(["private"] * 9 + ["public-read"])
            return (f"resource \"aws_s3_bucket\" \"{name}\" {{\n  bucket        = \"acme-{name}-{env}\"\n"
                    f"  force_destroy = {fd}\n{tags}}}\n\n"
                    f"resource \"aws_s3_bucket_acl\" \"{name}\" {{\n"
                    f"  bucket = aws_s3_bucket.{name}.id\n  acl    = \"{acl}\"\n}}\n\n"
                    f"resource \"aws_s3_bucket_versioning\" \"{name}\" {{\n"
                    f"  bucket = aws_s3_bucket.{name}.id\n  versioning_configuration {{\n"
                    f"    status = \"Enabled\"\n  }}\n}}\n")
        if k == 1:
            skip = self.hcl_bool("true", "false", 0.3)
            prot = self.hcl_bool("false", "true", 0.2)
            imm = self.hcl_bool("true", "false", 0.2)
            return (f"resource \"aws_db_instance\" \"{name}\" {{\n"
                    f"  identifier              = \"{name}-{env}\"\n"
                    f"  engine                  = \"postgres\"\n"
                    f"  engine_version          = \"15.{self.r.randint(1, 8)}\"\n"
                    f"  instance_class          = var.instance_class\n"
                    f"  allocated_storage       = {self.r.choice([20, 50, 100, 500])}\n"
                    f"  username                = var.db_username\n"
                    f"  password                = var.db_password\n"
                    f"  skip_final_snapshot     = {skip}\n"
                    f"  deletion_protection     = {prot}\n"
                    f"  apply_immediately       = {imm}\n"
                    f"  backup_retention_period = {self.r.randint(0, 35)}\n"
                    f"  vpc_security_group_ids  = [aws_security_group.{name}.id]\n{tags}"
                    f"  lifecycle {{\n    prevent_destroy = {self.hcl_bool('false', 'true', 0.2)}\n"
                    f"    ignore_changes  = [password]\n  }}\n}}\n")
        if k == 2:
            cidr = self.r.choice(["10.0.0.0/8", "172.16.0.0/12", "10.20.0.0/16", "0.0.0.0/0"])
            port = self.r.choice([22, 443, 5432, 6379, 8080])
            return (f"resource \"aws_security_group\" \"{name}\" {{\n  name   = \"{name}\"\n"
                    f"  vpc_id = var.vpc_id\n\n  ingress {{\n    from_port   = {port}\n"
                    f"    to_port     = {port}\n    protocol    = \"tcp\"\n"
                    f"    cidr_blocks = [\"{cidr}\"]\n  }}\n\n  egress {{\n    from_port   = 0\n"
                    f"    to_port     = 0\n    protocol    = \"-1\"\n"
                    f"    cidr_blocks = [\"0.0.0.0/0\"]\n  }}\n{tags}}}\n")
        if k == 3:
            return (f"resource \"google_storage_bucket\" \"{name}\" {{\n"
                    f"  name          = \"acme-{name}-{env}\"\n  location      = \"EU\"\n"
                    f"  force_destroy = {self.hcl_bool('true', 'false', 0.2)}\n\n"
                    f"  uniform_bucket_level_access = true\n\n  lifecycle_rule {{\n"
                    f"    condition {{\n      age = {self.r.randint(7, 400)}\n    }}\n"
                    f"    action {{\n      type = \"Delete\"\n    }}\n  }}\n}}\n")
        if k == 4:
            return (f"resource \"aws_dynamodb_table\" \"{name}\" {{\n  name         = \"{name}\"\n"
                    f"  billing_mode = \"PAY_PER_REQUEST\"\n  hash_key     = \"pk\"\n"
                    f"  range_key    = \"sk\"\n\n"
                    f"  deletion_protection_enabled = {self.hcl_bool('false', 'true', 0.2)}\n\n"
                    f"  attribute {{\n    name = \"pk\"\n    type = \"S\"\n  }}\n\n"
                    f"  attribute {{\n    name = \"sk\"\n    type = \"S\"\n  }}\n{tags}}}\n")
        if k == 5:
            return (f"resource \"aws_s3_bucket_public_access_block\" \"{name}\" {{\n"
                    f"  bucket                  = aws_s3_bucket.{name}.id\n"
                    f"  block_public_acls       = {self.hcl_bool('false', 'true', 0.15)}\n"
                    f"  block_public_policy     = true\n  ignore_public_acls      = true\n"
                    f"  restrict_public_buckets = true\n}}\n")
        return (f"module \"{name}\" {{\n  source  = \"terraform-aws-modules/s3-bucket/aws\"\n"
                f"  version = \"~> 4.{self.r.randint(0, 9)}\"\n\n  bucket = \"acme-{name}\"\n"
                f"  force_destroy = {self.hcl_bool('true', 'false', 0.2)}\n\n"
                f"  versioning = {{\n    enabled = true\n  }}\n\n"
                f"  lifecycle_rule = [\n    {{\n      id      = \"expire\"\n"
                f"      enabled = true\n      expiration = {{ days = {self.r.randint(30, 365)} }}\n"
                f"    }}\n  ]\n}}\n")

    def gen_hcl(self):
        for i in range(HCL_MODULES):
            mod = f"{self.word()}-{self.word()}-{i:03d}"
            base = f"generated/infra/modules/{mod}"
            main = [f"terraform {{\n  required_version = \">= 1.5\"\n  required_providers {{\n"
                    f"    aws = {{\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.0\"\n"
                    f"    }}\n  }}\n}}\n\n"
                    f"provider \"aws\" {{\n  region = \"{self.r.choice(REGIONS)}\"\n}}\n\n"
                    f"locals {{\n  name = \"{mod}\"\n  common_tags = {{\n"
                    f"    Module = \"{mod}\"\n  }}\n}}\n\n"]
            for _ in range(self.r.randint(3, 6)):
                main.append(self.hcl_resource(self.ident(2)))
                main.append("\n")
            self.write(f"{base}/main.tf", "".join(main))
            variables = []
            for v in ("instance_class", "db_username", "db_password", "vpc_id", "environment"):
                variables.append(f"variable \"{v}\" {{\n  type        = string\n"
                                 f"  description = \"The {v.replace('_', ' ')}.\"\n}}\n\n")
            self.write(f"{base}/variables.tf", "".join(variables))
            outputs = []
            for _ in range(self.r.randint(2, 5)):
                n = self.ident(2)
                outputs.append(f"output \"{n}_id\" {{\n  value = local.name\n}}\n\n")
            self.write(f"{base}/outputs.tf", "".join(outputs))
            env = self.r.choice(ENVS)
            self.write(f"generated/infra/envs/{env}/{mod}.tfvars",
                       f"instance_class = \"db.t3.{self.r.choice(['micro', 'small', 'large'])}\"\n"
                       f"db_username    = \"app\"\nvpc_id         = \"vpc-{self.r.randint(10**7, 10**8)}\"\n"
                       f"environment    = \"{env}\"\n")

    # Shell -----------------------------------------------------------------------------------
    def sh_line(self, ind):
        k = self.r.randint(0, 99)
        var = self.r.choice(["BUILD_DIR", "CACHE_DIR", "WORK_DIR", "OUT", "TMPDIR", "RELEASE_DIR"])
        if k < 12:
            return f'{ind}echo "==> {self.word()} {self.word()} for ${{ENVIRONMENT:-dev}}"\n'
        if k < 20:
            return f'{ind}mkdir -p "${var}/{self.word()}"\n'
        if k < 28:
            return f'{ind}cp -r "{self.word()}/" "${var}/"\n'
        if k < 34:
            return (f'{ind}curl -fsSL --retry 3 "https://artifacts.example.com/{self.word()}.tar.gz" '
                    f'-o "${var}/{self.word()}.tar.gz"\n')
        if k < 40:
            return f'{ind}tar -xzf "${var}/{self.word()}.tar.gz" -C "${var}"\n'
        if k < 46:
            return f'{ind}git -C "$REPO" fetch origin "{self.word()}"\n'
        if k < 52:
            return f'{ind}kubectl -n "{self.word()}" rollout status deploy/{self.word()} --timeout=120s\n'
        if k < 58:
            return f'{ind}terraform -chdir=infra plan -out=tfplan -var "env=${{ENVIRONMENT}}"\n'
        if k < 63:
            return f'{ind}local {self.word()}="$(date +%Y%m%d)-{self.r.randint(1, 999)}"\n'
        if k < 68:
            return f'{ind}rm -f "${var}/{self.word()}.pid"\n'
        if k < 73:
            return f'{ind}aws s3 cp "${var}/{self.word()}.tar.gz" "s3://acme-artifacts/{self.word()}/"\n'
        if k < 78:
            return f'{ind}psql "$DATABASE_URL" -c "SELECT count(*) FROM {self.word()}s;"\n'
        if k < 82:
            return f'{ind}docker build -t "acme/{self.word()}:${{VERSION}}" .\n'
        if k < 86:
            return f'{ind}printf "%s\\n" "{self.word()}" >> "${var}/manifest.txt"\n'
        risky = [
            f'{ind}rm -rf "${var}/"\n',
            f'{ind}rm -rf "${var}/{self.word()}"\n',
            f'{ind}git push --force origin "HEAD:{self.word()}"\n',
            f'{ind}git reset --hard "origin/${{BRANCH:-main}}"\n',
            f'{ind}terraform -chdir=infra destroy -auto-approve\n',
            f'{ind}terraform apply -auto-approve tfplan\n',
            f'{ind}kubectl delete namespace "{self.word()}-preview"\n',
            f'{ind}curl -fsSL https://get.example.com/install.sh | sh\n',
            f'{ind}find "${var}" -name "*.tmp" -delete\n',
            f'{ind}helm uninstall "{self.word()}" -n "{self.word()}"\n',
            f'{ind}psql "$DATABASE_URL" -c "DROP TABLE IF EXISTS {self.word()}_old;"\n',
            f'{ind}aws s3 rm "s3://acme-{self.word()}/tmp/" --recursive\n',
            f'{ind}git clean -fdx\n',
            f'{ind}chmod -R 777 "${var}"\n',
        ]
        return self.r.choice(risky)

    def sh_function(self):
        name = f"{self.word()}_{self.word()}"
        lines = [f"{name}() {{\n"]
        lines.append('  local target="${1:?target required}"\n')
        if self.chance(0.5):
            lines.append('  if [ ! -d "$target" ]; then\n')
            lines.append(f'    echo "{name}: $target is missing" >&2\n    return 1\n  fi\n')
        for _ in range(self.r.randint(3, 8)):
            lines.append(self.sh_line("  "))
        if self.chance(0.4):
            lines.append(f'  for f in "$target"/*.{self.r.choice(["log", "json", "txt"])}; do\n')
            lines.append(self.sh_line("    "))
            lines.append("  done\n")
        if self.chance(0.3):
            lines.append('  case "${ENVIRONMENT:-dev}" in\n')
            lines.append("    prod|production)\n")
            lines.append(self.sh_line("      "))
            lines.append("      ;;\n    *)\n")
            lines.append(self.sh_line("      "))
            lines.append("      ;;\n  esac\n")
        lines.append("}\n\n")
        return "".join(lines), name

    def gen_shell(self):
        for i in range(SHELL_FILES):
            kind = self.r.choice(["deploy", "backup", "release", "ci", "cleanup", "bootstrap"])
            parts = ["#!/usr/bin/env bash\n",
                     f"# {kind}: {self.word()} {self.word()} helper\n",
                     "set -euo pipefail\n\n",
                     'SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"\n',
                     'REPO="${REPO:-$SCRIPT_DIR/..}"\n',
                     'BUILD_DIR="${BUILD_DIR:-$REPO/build}"\n',
                     'CACHE_DIR="${CACHE_DIR:-$HOME/.cache/acme}"\n\n']
            names = []
            for _ in range(self.r.randint(3, 7)):
                text, name = self.sh_function()
                parts.append(text)
                names.append(name)
            parts.append('main() {\n')
            for n in names:
                parts.append(f'  {n} "$BUILD_DIR"\n')
            parts.append('}\n\nmain "$@"\n')
            self.write(f"generated/scripts/{kind}/{kind}-{i:04d}.sh", "".join(parts))

    # YAML ------------------------------------------------------------------------------------
    def gen_workflows(self):
        for i in range(WORKFLOW_FILES):
            env = self.r.choice(["staging", "preview", "qa", "production", "prod", "dev"])
            steps = []
            for _ in range(self.r.randint(3, 7)):
                k = self.r.randint(0, 9)
                if k < 3:
                    steps.append(f"      - uses: actions/{self.r.choice(['checkout', 'cache', 'setup-node'])}@v4\n")
                elif k < 8:
                    steps.append(f"      - name: {self.word()} {self.word()}\n        run: |\n"
                                 f"          {self.sh_line('').strip()}\n"
                                 f"          {self.sh_line('').strip()}\n")
                else:
                    steps.append(f"      - name: {self.word()}\n        run: make {self.word()}\n")
            jobs = [f"  test:\n    runs-on: ubuntu-latest\n    steps:\n"
                    f"      - uses: actions/checkout@v4\n      - run: make test\n",
                    f"  deploy:\n    needs: test\n    runs-on: ubuntu-latest\n"
                    f"    environment: {env}\n    permissions:\n      contents: read\n"
                    f"      id-token: write\n    env:\n      ENVIRONMENT: {env}\n"
                    f"      REGION: {self.r.choice(REGIONS)}\n    steps:\n" + "".join(steps)]
            text = (f"name: {self.word()}-{self.word()}\n\non:\n  push:\n    branches: [main]\n"
                    f"  workflow_dispatch: {{}}\n\nconcurrency:\n  group: ${{{{ github.ref }}}}\n"
                    f"  cancel-in-progress: true\n\njobs:\n" + "\n".join(jobs))
            self.write(f"generated/.github/workflows/{self.word()}-{i:04d}.yml", text)

    def gen_k8s(self):
        for i in range(K8S_FILES):
            name = f"{self.word()}-{self.word()}"
            priv = "true" if self.chance(0.15) else "false"
            reclaim = "Delete" if self.chance(0.25) else "Retain"
            text = (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n"
                    f"  labels:\n    app: {name}\n    tier: {self.word()}\nspec:\n"
                    f"  replicas: {self.r.randint(1, 6)}\n  selector:\n    matchLabels:\n"
                    f"      app: {name}\n  template:\n    metadata:\n      labels:\n"
                    f"        app: {name}\n    spec:\n      containers:\n"
                    f"        - name: {name}\n          image: acme/{name}:1.{self.r.randint(0, 40)}.0\n"
                    f"          ports:\n            - containerPort: {self.r.choice([80, 8080, 9000])}\n"
                    f"          env:\n            - name: LOG_LEVEL\n              value: info\n"
                    f"            - name: DATABASE_URL\n              valueFrom:\n"
                    f"                secretKeyRef:\n                  name: {name}-db\n"
                    f"                  key: url\n          resources:\n            limits:\n"
                    f"              cpu: 500m\n              memory: 512Mi\n"
                    f"          securityContext:\n            privileged: {priv}\n"
                    f"            runAsNonRoot: true\n---\napiVersion: v1\nkind: PersistentVolume\n"
                    f"metadata:\n  name: {name}-data\nspec:\n  capacity:\n"
                    f"    storage: {self.r.choice([10, 50, 100])}Gi\n  accessModes:\n"
                    f"    - ReadWriteOnce\n  persistentVolumeReclaimPolicy: {reclaim}\n"
                    f"  storageClassName: ssd\n---\napiVersion: v1\nkind: Service\nmetadata:\n"
                    f"  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n"
                    f"    - port: 80\n      targetPort: 8080\n")
            self.write(f"generated/deploy/k8s/{name}-{i:04d}.yaml", text)

    # Application code ------------------------------------------------------------------------
    def gen_python(self):
        for i in range(APP_FILES):
            body = ['"""Maintenance tasks."""\n', "import os\nimport shutil\nimport subprocess\n",
                    "from pathlib import Path\n\nimport requests\n\n\n"]
            for _ in range(self.r.randint(6, 12)):
                fn = self.ident(2)
                body.append(f"def {fn}(root, name, session=None):\n")
                body.append(f'    """{self.word().title()} the {self.word()} files."""\n')
                body.append(f"    target = os.path.join(root, name, \"{self.word()}\")\n")
                for _ in range(self.r.randint(2, 5)):
                    k = self.r.randint(0, 14)
                    if k == 0:
                        body.append("    shutil.rmtree(target, ignore_errors=True)\n")
                    elif k == 1:
                        body.append('    subprocess.run(["rm", "-rf", target], check=True)\n')
                    elif k == 2:
                        body.append(f'    os.system("kubectl delete namespace {self.word()}")\n')
                    elif k == 3:
                        body.append("    os.remove(os.path.join(target, name))\n")
                    elif k == 4:
                        body.append('    resp = requests.get(f"https://api.example.com/{name}", verify=False)\n')
                    else:
                        body.append(f"    items = [p for p in Path(target).glob(\"*.{self.word()}\")]\n")
                        body.append("    if not items:\n        return None\n")
                body.append(f"    return {self.r.randint(0, 9)}\n\n\n")
            self.write(f"generated/tools/py/{self.word()}_{i:03d}.py", "".join(body))

    def gen_js(self):
        for i in range(APP_FILES):
            ts = i % 2 == 1
            body = ["import fs from 'node:fs';\nimport path from 'node:path';\n",
                    "import { execSync, spawn } from 'node:child_process';\n\n"]
            for _ in range(self.r.randint(6, 12)):
                fn = self.word() + self.word().title()
                arg = "dir: string, name: string" if ts else "dir, name"
                body.append(f"export async function {fn}({arg}) {{\n")
                body.append(f"  const target = path.join(dir, name, '{self.word()}');\n")
                for _ in range(self.r.randint(2, 5)):
                    k = self.r.randint(0, 12)
                    if k == 0:
                        body.append("  fs.rmSync(target, { recursive: true, force: true });\n")
                    elif k == 1:
                        body.append("  execSync(`rm -rf ${target}`);\n")
                    elif k == 2:
                        body.append("  spawn('terraform', ['destroy', '-auto-approve'], { stdio: 'inherit' });\n")
                    elif k == 3:
                        body.append("  process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';\n")
                    else:
                        body.append(f"  const {self.word()}List = fs.readdirSync(target).filter((f) => f.endsWith('.{self.word()}'));\n")
                body.append(f"  return {self.r.randint(0, 9)};\n}}\n\n")
            ext = "ts" if ts else "js"
            self.write(f"generated/tools/js/{self.word()}-{i:03d}.{ext}", "".join(body))

    def gen_go(self):
        for i in range(APP_FILES):
            body = [f"package {self.word()}\n\nimport (\n\t\"os\"\n\t\"os/exec\"\n\t\"path/filepath\"\n)\n\n"]
            for _ in range(self.r.randint(6, 12)):
                fn = self.word().title() + self.word().title()
                body.append(f"func {fn}(root, name string) error {{\n")
                body.append(f"\ttarget := filepath.Join(root, name, \"{self.word()}\")\n")
                for _ in range(self.r.randint(2, 5)):
                    k = self.r.randint(0, 10)
                    if k == 0:
                        body.append("\tif err := os.RemoveAll(target); err != nil {\n\t\treturn err\n\t}\n")
                    elif k == 1:
                        body.append("\tif err := exec.Command(\"rm\", \"-rf\", target).Run(); err != nil {\n\t\treturn err\n\t}\n")
                    else:
                        body.append("\tif _, err := os.Stat(target); err != nil {\n\t\treturn err\n\t}\n")
                body.append("\treturn nil\n}\n\n")
            self.write(f"generated/tools/go/{self.word()}_{i:03d}.go", "".join(body))

    def gen_rust(self):
        for i in range(APP_FILES):
            body = ["use std::fs;\nuse std::path::Path;\nuse std::process::Command;\n\n"]
            for _ in range(self.r.randint(6, 12)):
                fn = self.ident(2)
                body.append(f"pub fn {fn}(root: &Path, name: &str) -> std::io::Result<()> {{\n")
                body.append(f"    let target = root.join(name).join(\"{self.word()}\");\n")
                for _ in range(self.r.randint(2, 5)):
                    k = self.r.randint(0, 10)
                    if k == 0:
                        body.append("    fs::remove_dir_all(&target)?;\n")
                    elif k == 1:
                        body.append("    Command::new(\"rm\").arg(\"-rf\").arg(&target).status()?;\n")
                    else:
                        body.append("    let _meta = fs::metadata(&target)?;\n")
                body.append("    Ok(())\n}\n\n")
            self.write(f"generated/tools/rs/{self.word()}_{i:03d}.rs", "".join(body))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_corpus.py OUT_DIR")
    g = Gen(sys.argv[1])
    g.gen_sql()
    g.gen_hcl()
    g.gen_shell()
    g.gen_workflows()
    g.gen_k8s()
    g.gen_python()
    g.gen_js()
    g.gen_go()
    g.gen_rust()


if __name__ == "__main__":
    main()
