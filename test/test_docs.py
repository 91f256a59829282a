"""The documentation: every relative link resolves, and the README stays a five-minute read."""

from pathlib import Path
import re

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / 'README.md'
PAGES = [README, *sorted((REPO / 'docs').glob('*.md'))]
README_MAX_LINES = 200

FENCE = re.compile(r'^```.*?^```', re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r'`[^`\n]*`')
# [text](target) and ![alt](target); the text may hold code spans, already blanked.
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$', re.MULTILINE)


def prose(text):
    """The page without its code blocks and code spans, where brackets are not links."""
    text = FENCE.sub(lambda m: '\n' * m.group(0).count('\n'), text)
    return CODE_SPAN.sub(lambda m: ' ' * len(m.group(0)), text)


def links(page):
    """(line number, target) of every link and image on a markdown page."""
    text = prose(page.read_text(encoding='utf-8'))
    return [(text.count('\n', 0, m.start()) + 1, m.group(1)) for m in LINK.finditer(text)]


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading).replace('`', '')
    return re.sub(r'[^\w\- ]', '', text.lower()).replace(' ', '-')


def anchors(page):
    """The anchors a page's headings make, numbered as GitHub numbers repeated ones."""
    text = FENCE.sub('', page.read_text(encoding='utf-8'))
    seen = {}
    result = set()
    for match in HEADING.finditer(text):
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f'{base}-{count}')
    return result


def test_slug_follows_github():
    assert slug('Faults: what each one does') == 'faults-what-each-one-does'
    assert slug('On the robot (ROS 2 from apt)') == 'on-the-robot-ros-2-from-apt'
    assert slug('The `source` parameter') == 'the-source-parameter'


def test_links_are_found_outside_code_only(tmp_path):
    page = tmp_path / 'page.md'
    page.write_text('[a](x.md) `[b](y.md)` ![c](d/e.png "title")\n```\n[f](g.md)\n```\n'
                    '[h](https://example.com) [i](#top)\n', encoding='utf-8')
    assert links(page) == [(1, 'x.md'), (1, 'd/e.png'), (5, 'https://example.com'),
                           (5, '#top')]


@pytest.mark.parametrize('page', PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = []
    for line, target in links(page):
        if re.match(r'[a-z][a-z0-9+.-]*:', target):  # https:, mailto: ...: not checked here
            continue
        path, _, anchor = target.partition('#')
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f'{page.name}:{line}: {target} (no such file)')
        elif anchor and file.suffix == '.md' and anchor not in anchors(file):
            broken.append(f'{page.name}:{line}: {target} (no heading #{anchor})')
    assert not broken, '\n'.join(broken)


def test_docs_pages_exist_and_are_linked_from_the_readme():
    linked = {(README.parent / target.partition('#')[0]).resolve()
              for _, target in links(README)}
    unlinked = [p.name for p in PAGES[1:] if p.resolve() not in linked]
    assert len(PAGES) > 1, 'no docs/*.md'
    assert not unlinked, f'docs pages the README does not link: {unlinked}'


def test_readme_is_short():
    lines = README.read_text(encoding='utf-8').count('\n')
    assert lines <= README_MAX_LINES, (
        f'README.md has {lines} lines; keep it to {README_MAX_LINES} and move detail to docs/')


def test_readme_states_the_setup_and_test_commands():
    text = README.read_text(encoding='utf-8')
    for command in ('make demo', 'make test', 'colcon build', 'ros2 launch'):
        assert command in text, f'README.md no longer says `{command}`'
