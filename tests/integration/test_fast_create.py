"""Create's shortcuts change nothing a caller can see, on both engines.

Image files are read once per image and not at all for root; HOME, its files, the passwd entry
and the workdir's owner go in as one archive after a keep-alive container starts; ct-default is
found by its label. Each test compares a first create with a later one (served from the cache).
"""

from __future__ import annotations

import pytest

from containers_tool.provision import home
from tests.integration.conftest import BUSYBOX, DEBIAN

pytestmark = pytest.mark.slow

#: What a mapped user sees of itself: ids, HOME, owners, its passwd entries, the inline file.
PROBE = (
    'id -u; id -g; echo "$HOME"; stat -c %u:%g "$HOME" "$HOME/.profile-ct" "$PWD"; '
    "awk -F: '$3==1000{print $6}' /etc/passwd | wc -l; awk -F: '$3==1000{print $6}' /etc/passwd; "
    'cat "$HOME/.profile-ct"; echo; touch "$HOME/w" "$PWD/w" && echo writable'
)


def _probe(tool, image, user, **fields):
    made = tool.call(
        "create", image=image, user=user, dotfiles_inline={".profile-ct": "hi"}, **fields
    )
    assert made["ok"], made
    ran = tool.call("exec", container=made["container"], command=PROBE)
    tool.call("destroy", container=made["container"])
    assert ran["exit_code"] == 0, ran
    return made, ran["stdout"].split()


@pytest.mark.parametrize("image", [BUSYBOX, DEBIAN])
def test_a_mapped_user_gets_the_same_home_from_a_cold_and_a_cached_image(tool, image):
    home._FILES.clear()  # the first create reads the image's passwd; the second one reuses it
    first, cold = _probe(tool, image, "1000:1000")
    assert any(key[1] == "/etc/passwd" for key in home._FILES)
    second, warm = _probe(tool, image, "1000:1000")
    assert cold == warm
    uid, gid, home_dir, *owners, entries, passwd_home, content, writable = cold
    assert (uid, gid, home_dir) == ("1000", "1000", "/home/ct") == ("1000", "1000", first["home"])
    assert owners == ["1000:1000"] * 3  # HOME, the file in it, the workdir
    assert (entries, passwd_home, content, writable) == ("1", "/home/ct", "hi", "writable")
    steps = {s["step"] for s in second["provisioning"]}
    assert "workdir" in steps


def test_root_reads_no_image_file_and_keeps_root_home(tool):
    home._FILES.clear()
    made = tool.call("create", image=BUSYBOX, user="0:0", dotfiles_inline={".profile-ct": "r"})
    assert made["ok"], made
    assert not home._FILES, "root needs neither passwd nor group"
    ran = tool.call(
        "exec",
        container=made["container"],
        command='id -u; echo "$HOME"; stat -c %u:%g "$HOME/.profile-ct"; cat "$HOME/.profile-ct"',
    )
    assert ran["stdout"].split() == ["0", "/root", "0:0", "r"]
    tool.call("destroy", container=made["container"])


def test_named_user_and_group_resolve_from_the_cache_as_from_the_image(tool):
    home._FILES.clear()
    outputs = []
    for _ in range(2):
        made = tool.call("create", image=DEBIAN, user="nobody:nogroup")
        assert made["ok"], made
        ran = tool.call("exec", container=made["container"], command="id -un; id -gn; echo $HOME")
        outputs.append(ran["stdout"])
        tool.call("destroy", container=made["container"])
    assert outputs[0] == outputs[1] == "nobody\nnogroup\n/home/ct\n"
    bad = tool.call("create", image=DEBIAN, user="nobody:no-such-group")
    assert (bad["error"]["code"], bad["error"]["field"]) == ("invalid_input", "user")


def test_forwarded_git_config_and_ca_reach_a_mapped_user(tool, tmp_path, monkeypatch):
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Fast Create\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n", "utf-8")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    for _ in range(2):  # cold, then from the cache
        made = tool.call(
            "create", image=DEBIAN, user="1000:1000", forward_git=True, forward_ca=True
        )
        assert made["ok"], made
        ran = tool.call(
            "exec",
            container=made["container"],
            command='stat -c %u:%g ~/.gitconfig; grep -c "Fast Create" ~/.gitconfig; '
            'head -c 27 "$SSL_CERT_FILE"; echo',
        )
        assert ran["stdout"] == "1000:1000\n1\n-----BEGIN CERTIFICATE-----\n", ran
        tool.call("destroy", container=made["container"])


@pytest.mark.serial
def test_a_create_without_network_joins_the_isolated_default_network(tool, raw):
    iso = tool.context.runtime.network_isolation()
    names = []
    for _ in range(2):  # the first may make ct-default; the second finds it by its label
        made = tool.call("create", image=BUSYBOX)
        assert made["ok"], made
        attached = raw.containers.get(made["container"]).attrs["NetworkSettings"]["Networks"]
        names.append(sorted(attached))
        tool.call("destroy", container=made["container"])
    expected = ["bridge"] if iso.default_isolated else ["ct-default"]
    assert names == [expected, expected]


#: A fresh process's first create, counting the engine's info requests on the wire.
_FIRST_CREATE = """
import json, sys, requests
from containers_tool import ContainersTool
from containers_tool.settings import Settings
asked = []
send = requests.Session.send
def counting(self, request, **kw):
    path = request.path_url.split("?")[0]
    if path.endswith("/info") or path.endswith("/version"):
        asked.append(path)
    return send(self, request, **kw)
requests.Session.send = counting
tool = ContainersTool(Settings(runtime=sys.argv[1], state_dir=sys.argv[2]), session_id=sys.argv[3])
made = tool.call("create", image=sys.argv[4])
tool.close()
print(json.dumps({"ok": made["ok"], "asked": asked}))
"""


def test_a_new_process_first_create_reuses_the_engine_facts_of_an_earlier_one(engine, tmp_path):
    import json
    import subprocess
    import sys

    from tests.integration.conftest import TEST_SESSION, unique

    def first_create() -> dict[str, object]:
        argv = [engine, str(tmp_path / "state"), f"{TEST_SESSION}-{unique('f')}", BUSYBOX]
        done = subprocess.run(
            [sys.executable, "-c", _FIRST_CREATE, *argv],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    cold, warm = first_create(), first_create()
    assert cold["ok"], cold
    assert warm["ok"], warm
    assert cold["asked"], "the first process asks the engine"
    assert warm["asked"] == [], "the next one, same engine and boot, does not"
    assert (tmp_path / "state" / "engine-facts.json").is_file()
