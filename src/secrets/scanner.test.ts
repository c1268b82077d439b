import { describe, expect, it } from "vitest";
import { shannonEntropy } from "./entropy.js";
import { describeFinding, findSecrets, jsonSources, lineColumn, scanSources } from "./scanner.js";

// Vectors are assembled at run time so this file never holds a credential-shaped literal
// (secret scanners on the repository must not trip over the tests of ours).
const join = (...parts: string[]) => parts.join("");
const AWS_KEY = join("AKIA", "Q3EGT7XZ5MBN2WLP"); // random-looking, not the documented example
const AWS_EXAMPLE = join("AKIA", "IOSFODNN7", "EXAMPLE");
const GH_PAT = join("ghp_", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5");
const GH_FINE = join(
  "github_pat_",
  "11ABCDEFG0aB3dE5gH7jK9",
  "_",
  "pQ3sT5vW7yZ9bC1dF3hJ5kL7nP9rS1tV3wX5zA7cE9gI1kM3oQ5sU7wY9aR",
);
const SLACK_BOT = join("xoxb-", "2847561930", "-", "5839201746", "-", "Zq8Wn3Rt6Yp1Ks4Lm7Xc0Vb2");
const SLACK_HOOK = join(
  "https://hooks.slack.com/services/",
  "T0A1B2C3D",
  "/",
  "B4E5F6G7H",
  "/",
  "q9W8e7R6t5Y4u3I2o1P0aSdF",
);
const PEM_BODY =
  "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MgW1Bv4Z2x9E+pCw\nq7Jv5Yb3r9T2mHcN8xL1kQ6sPzR4uVwE0yD3fG7hJ2iK5lM9nO1pQ4rS6tU8vW0x";
const PEM = join("-----BEGIN RSA ", "PRIVATE KEY-----\n", PEM_BODY, "\n-----END RSA PRIVATE KEY-----");
const OPENSSH = join("-----BEGIN OPENSSH ", "PRIVATE KEY-----\n", PEM_BODY, "\n-----END OPENSSH PRIVATE KEY-----");
const HIGH_ENTROPY = join("k9Xq2", "Lw7Rt4", "Zp1Vn8", "Ys3Mb6");

const rules = (text: string) => findSecrets(text).map((m) => m.rule);

describe("secret scan: vectors that must flag", () => {
  it.each([
    ["an AWS access key id in code", `const id = "${AWS_KEY}";`, "aws-access-key-id"],
    ["an AWS access key id alone", AWS_KEY, "aws-access-key-id"],
    ["a GitHub personal access token", `token: ${GH_PAT}`, "github-token"],
    ["a fine-grained GitHub token", `gh = "${GH_FINE}"`, "github-token"],
    ["a Slack bot token", `SLACK=${SLACK_BOT}`, "slack-token"],
    ["a Slack webhook URL", `post("${SLACK_HOOK}")`, "slack-webhook"],
    ["an RSA private key block", PEM, "private-key"],
    ["an OpenSSH private key block", OPENSSH, "private-key"],
    ["a generic api_key assignment", `api_key = "${HIGH_ENTROPY}"`, "generic-high-entropy-assignment"],
    ["a generic password in YAML", `db:\n  password: ${HIGH_ENTROPY}\n`, "generic-high-entropy-assignment"],
    ["a generic client secret in JSON", `{"client_secret": "${HIGH_ENTROPY}"}`, "generic-high-entropy-assignment"],
    ["a shell export of a token", `export MY_TOKEN=${HIGH_ENTROPY}`, "generic-high-entropy-assignment"],
    ["a Ruby hash entry", `{ auth_key => '${HIGH_ENTROPY}' }`, "generic-high-entropy-assignment"],
  ])("%s", (_name, text, rule) => {
    expect(rules(text)).toEqual([rule]);
  });

  it("reports rule and 1-based line and column, never the value", () => {
    const code = `print("hello")\nkey_id = "x"\naws = "${AWS_KEY}"\n`;
    const findings = scanSources([{ name: "code", text: code }]);
    expect(findings).toEqual([{ rule: "aws-access-key-id", source: "code", line: 3, column: 8 }]);
    expect(describeFinding(findings[0] ?? { rule: "", source: "", line: 0, column: 0 })).toBe(
      "aws-access-key-id at code:3:8",
    );
    expect(JSON.stringify(findings)).not.toContain(AWS_KEY);
  });

  it("finds secrets in nested JSON input and names the path", () => {
    const findings = scanSources(jsonSources({ user: { name: "ada", apiToken: HIGH_ENTROPY }, list: ["ok", GH_PAT] }));
    expect(findings.map((f) => [f.rule, f.source])).toEqual([
      ["generic-high-entropy-assignment", "input.user.apiToken"],
      ["github-token", "input.list[1]"],
    ]);
  });

  it("finds several secrets in one text, each once", () => {
    expect(rules(`a=${AWS_KEY}\nb=${GH_PAT}\n${PEM}`)).toEqual(["aws-access-key-id", "github-token", "private-key"]);
  });
});

describe("secret scan: vectors that must not flag", () => {
  it.each([
    ["the documented AWS example key", `aws_access_key_id = ${AWS_EXAMPLE}`],
    ["the documented AWS example secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["a low-entropy AWS-shaped placeholder", join("AKIA", "XXXXXXXXXXXXXXXX")],
    ["a GitHub-shaped placeholder", join("ghp_", "x".repeat(36))],
    ["a Slack placeholder", join("xoxb-", "000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx")],
    ["an env lookup", "api_key = process.env.API_KEY"],
    ["a function call", "token = getTokenFromEnvironment()"],
    ["a template placeholder", ["password: $", "{DB_PASSWORD}"].join("")],
    ["a your-key-here placeholder", 'api_key = "your-api-key-here-1234"'],
    ["a short password", 'password = "hunter2"'],
    ["a long word without digits", 'secret = "correcthorsebatterystaple"'],
    ["a public key block", join("-----BEGIN PUBLIC ", "KEY-----\n", PEM_BODY, "\n-----END PUBLIC KEY-----")],
    ["a private key header with a placeholder body", join("-----BEGIN RSA ", "PRIVATE KEY-----\n", "A".repeat(64))],
    ["a git commit hash", "commit 3f786850e387550fdab836ed7e6dc881de23001b"],
    ["a UUID assigned to an id", 'request_id = "0f8fad5b-d9cb-469f-a165-70867728950e"'],
    ["ordinary code", 'for (let i = 0; i < 10; i++) console.log("token count", i);'],
  ])("%s", (_name, text) => {
    expect(rules(text)).toEqual([]);
  });
});

describe("entropy and positions", () => {
  it("measures bits per character", () => {
    expect(shannonEntropy("")).toBe(0);
    expect(shannonEntropy("aaaa")).toBe(0);
    expect(shannonEntropy("abcd")).toBe(2);
    expect(shannonEntropy(HIGH_ENTROPY)).toBeGreaterThan(3.5);
  });

  it("maps offsets to lines and columns", () => {
    expect(lineColumn("ab\ncd\nef", 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn("ab\ncd\nef", 4)).toEqual({ line: 2, column: 2 });
    expect(lineColumn("ab\ncd\nef", 6)).toEqual({ line: 3, column: 1 });
  });

  it("scans a large body in bounded time", () => {
    const big = `${"let value_token = compute(1234);\n".repeat(60_000)}x = "${AWS_KEY}"`;
    const started = performance.now();
    expect(rules(big)).toEqual(["aws-access-key-id"]);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
