import pytest

from ethos.errors import InputError
from ethos.textio import atomic_write, decode_text

FRENCH = "L’éducatrice a dit : « ça coûte cher, œuvre et cœur » — voilà."


@pytest.mark.parametrize(
    "data, encoding",
    [
        (FRENCH.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + FRENCH.encode("utf-8"), "utf-8-sig"),
        (FRENCH.encode("cp1252"), "cp1252"),
        (FRENCH.encode("utf-16"), "utf-16"),
    ],
)
def test_decodes_the_encodings_word_and_excel_write(data, encoding):
    assert decode_text(data) == (FRENCH, encoding)


def test_latin1_when_bytes_are_undefined_in_cp1252():
    data = "café".encode("latin-1") + b"\x81"
    text, encoding = decode_text(data)
    assert encoding == "latin-1" and text.startswith("café")


def test_valid_utf8_is_never_read_as_cp1252():
    # 'Ã©' in cp1252 is the UTF-8 encoding of 'é': a guesser could pick cp1252 here
    assert decode_text("é".encode("utf-8")) == ("é", "utf-8")


@pytest.mark.parametrize("data", [b"\x00\x01\x02binary\x00", bytes(range(0, 32)) * 10])
def test_binary_refused(data):
    with pytest.raises(InputError, match="binary"):
        decode_text(data, source="x.txt")


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write("new, half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
    with atomic_write(target) as handle:
        handle.write("new")
    assert target.read_text() == "new"
