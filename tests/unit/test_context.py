"""The data dictionary and hierarchies: owners keep their own entries, imports are all or nothing,
and every change is audited."""

import pytest

from flightdeck.accounts import audit_trail
from flightdeck.business import dictionary, hierarchies
from flightdeck.business.dictionary import AllowedCode, FieldDraft
from flightdeck.business.hierarchies import HierarchyDraft
from flightdeck.core.db import Database
from flightdeck.core.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from flightdeck.core.roles import Role
from tests.factories import add_user
from tests.kpi_factories import NODES_CSV

MEMBER = FieldDraft(
    "member_id", "Member", "identifier", "Loyalty card number", personal_data=True, lawful_basis="contract"
)
FIELDS_CSV = (
    b"key;label;data_type;meaning;unit;format;allowed_codes;personal_data;lawful_basis\n"
    b"region_code;Region;code;Sales region;;;N=North|S=South;no;\n"
    b"basket_value_eur;Basket value;decimal;Mean receipt;EUR;decimal comma;;nein;\n"
)


def actions(db: Database) -> list[str]:
    return [e.action for e in reversed(audit_trail.list_events(db, audit_trail.AuditFilter())[0])]


def test_an_owner_defines_a_field_that_anyone_can_look_up_by_key(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    created = dictionary.create_field(db, owner, MEMBER)
    assert (created.key, created.personal_data, created.lawful_basis, created.owner_id) == (
        "member_id",
        True,
        "contract",
        owner.id,
    )
    assert dictionary.get_field_by_key(db, "member_id") == created
    assert dictionary.list_fields(db) == [created]
    with pytest.raises(NotFound):
        dictionary.get_field_by_key(db, "nope")
    assert "data_field.create" in actions(db)


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (FieldDraft("Member ID", "Member", "identifier"), "key"),
        (FieldDraft("member_id", "", "identifier"), "label"),
        (FieldDraft("member_id", "Member", "blob"), "data_type"),
        (FieldDraft("po_match", "PO match", "code"), "allowed_codes"),
        (
            FieldDraft(
                "po_match", "PO", "code", allowed_codes=(AllowedCode("Y", "a"), AllowedCode("Y", "b"))
            ),
            "allowed_codes",
        ),
        (FieldDraft("member_id", "Member", "identifier", personal_data=True), "lawful_basis"),
        (
            FieldDraft("member_id", "Member", "identifier", personal_data=True, lawful_basis="whim"),
            "lawful_basis",
        ),
    ],
)
def test_a_field_must_make_sense(db: Database, draft: FieldDraft, field: str) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    with pytest.raises(InvalidInput) as refused:
        dictionary.create_field(db, owner, draft)
    assert field in {p.field for p in refused.value.problems}
    assert dictionary.list_fields(db) == []


def test_owners_edit_their_own_fields_admins_any_others_none(db: Database) -> None:
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    bruno = add_user(db, "bruno", Role.BUSINESS_OWNER)
    admin = add_user(db, "ada", Role.ADMIN)
    field = dictionary.create_field(db, bianca, MEMBER)
    edited = dictionary.update_field(
        db, bianca, field.id, field.version, FieldDraft(**{**vars(MEMBER), "unit": "id"})
    )
    assert (edited.unit, edited.version) == ("id", 2)
    with pytest.raises(PermissionDenied):
        dictionary.update_field(db, bruno, field.id, edited.version, MEMBER)
    handed = dictionary.update_field(
        db, admin, field.id, edited.version, FieldDraft(**{**vars(MEMBER), "owner_id": bruno.id})
    )
    assert handed.owner_id == bruno.id
    with pytest.raises(StaleEdit):
        dictionary.update_field(db, bruno, field.id, edited.version, MEMBER)  # based on an old version


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DATA_SCIENTIST, Role.REVIEWER])
def test_readers_cannot_add_to_the_dictionary(db: Database, role: Role) -> None:
    reader = add_user(db, "someone", role)
    with pytest.raises(PermissionDenied):
        dictionary.create_field(db, reader, MEMBER)
    with pytest.raises(PermissionDenied):
        dictionary.import_fields(db, reader, FIELDS_CSV, "fields.csv")
    assert dictionary.list_fields(db) == []


def test_importing_the_dictionary_creates_and_updates_by_key(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    dictionary.create_field(db, owner, FieldDraft("region_code", "Old label", "text"))
    result = dictionary.import_fields(db, owner, FIELDS_CSV, "fields.csv")
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    region = dictionary.get_field_by_key(db, "region_code")
    assert region.allowed_codes == (AllowedCode("N", "North"), AllowedCode("S", "South"))
    assert region.label == "Region"
    again = dictionary.import_fields(db, owner, FIELDS_CSV, "fields.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert "data_field.import" in actions(db)


def test_the_exported_dictionary_imports_back_unchanged(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    dictionary.import_fields(db, owner, FIELDS_CSV, "fields.csv")
    dictionary.create_field(db, owner, MEMBER)
    before = dictionary.list_fields(db)
    result = dictionary.import_fields(db, owner, dictionary.fields_csv(db), "export.csv")
    assert (result.created, result.updated) == (0, 0)
    assert dictionary.list_fields(db) == before


def test_a_bad_row_rejects_the_whole_import_with_its_row_number(db: Database) -> None:
    owner = add_user(db, "bianca", Role.BUSINESS_OWNER)
    bad = FIELDS_CSV + b"Bad Key;;blob;;;;;maybe;\nregion_code;Again;text;;;;;no;\n"
    with pytest.raises(InvalidInput) as refused:
        dictionary.import_fields(db, owner, bad, "fields.csv")
    found = {(p.row, p.field) for p in refused.value.problems}
    assert {(4, "key"), (4, "label"), (4, "data_type"), (4, "personal_data"), (5, "key")} <= found
    assert dictionary.list_fields(db) == []  # the good rows were not stored either


def test_an_import_may_not_change_another_owners_field(db: Database) -> None:
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    bruno = add_user(db, "bruno", Role.BUSINESS_OWNER)
    dictionary.create_field(db, bruno, FieldDraft("region_code", "Bruno's", "text"))
    with pytest.raises(InvalidInput) as refused:
        dictionary.import_fields(db, bianca, FIELDS_CSV, "fields.csv")
    assert "belongs to Bruno" in refused.value.problems[0].message
    assert dictionary.get_field_by_key(db, "region_code").label == "Bruno's"
    with pytest.raises(NotFound):  # nothing of the file was stored
        dictionary.get_field_by_key(db, "basket_value_eur")


# -- hierarchies -------------------------------------------------------------------------------


def test_nodes_import_with_parents_later_in_the_file_and_roll_up_by_level(db: Database) -> None:
    owner = add_user(db, "bruno", Role.BUSINESS_OWNER)
    hierarchy = hierarchies.create_hierarchy(
        db, owner, HierarchyDraft("region_store", "Region → Store", ("Region", "Store"))
    )
    children_first = (
        b"code,label,parent_code\nN1,North one,N\nN,North,\nS,South,\nS1,South one,S\nN2,North two,N\n"
    )
    result = hierarchies.import_nodes(db, owner, hierarchy.id, hierarchy.version, children_first, "n.csv")
    assert (result.created, result.updated) == (5, 0)
    loaded = hierarchies.get_hierarchy(db, hierarchy.id)
    assert loaded.version == hierarchy.version + 1
    assert loaded.descendants_by_depth(None) == [["N", "S"], ["N1", "N2", "S1"]]
    assert loaded.descendants_by_depth("N") == [["N1", "N2"]]
    assert [n.code for n in loaded.ancestors("N2")] == ["N"]
    assert loaded.level_name(loaded.node("S1").depth) == "Store"


def test_a_node_can_be_renamed_and_moved(db: Database) -> None:
    owner = add_user(db, "bruno", Role.BUSINESS_OWNER)
    hierarchy = hierarchies.create_hierarchy(db, owner, HierarchyDraft("rs", "Stores", ("Region", "Store")))
    hierarchies.import_nodes(db, owner, hierarchy.id, hierarchy.version, NODES_CSV, "n.csv")
    current = hierarchies.get_hierarchy(db, hierarchy.id)
    moved = hierarchies.upsert_node(db, owner, hierarchy.id, current.version, "N2", "Now in the south", "S")
    assert moved.node("N2").parent_code == "S"
    assert moved.node("N2").label == "Now in the south"
    with pytest.raises(StaleEdit):
        hierarchies.upsert_node(db, owner, hierarchy.id, current.version, "N1", "x", "S")


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        (b"code,label,parent_code\nA,a,B\nB,b,A\n", "would be its own ancestor"),
        (b"code,label,parent_code\nX9,x,N1\n", "would sit 3 levels deep"),
        (b"code,label,parent_code\nX9,x,NOPE\n", "is not a node of this hierarchy"),
        (b"code,label,parent_code\ntreatment,t,\n", "reserved for experiment arms"),
        (b"code,label,parent_code\nbad code,x,\n", "Code must be"),
        (b"code,label,parent_code\nZ,z,\nZ,z again,\n", "already on row 2"),
    ],
)
def test_a_bad_node_rejects_the_whole_file(db: Database, csv: bytes, message: str) -> None:
    owner = add_user(db, "bruno", Role.BUSINESS_OWNER)
    hierarchy = hierarchies.create_hierarchy(db, owner, HierarchyDraft("rs", "Stores", ("Region", "Store")))
    hierarchies.import_nodes(db, owner, hierarchy.id, hierarchy.version, NODES_CSV, "n.csv")
    before = hierarchies.get_hierarchy(db, hierarchy.id)
    with pytest.raises(InvalidInput) as refused:
        hierarchies.import_nodes(db, owner, hierarchy.id, before.version, csv, "bad.csv")
    assert any(message in p.message for p in refused.value.problems)
    assert hierarchies.get_hierarchy(db, hierarchy.id) == before


def test_only_the_owner_or_an_admin_edits_a_hierarchy(db: Database) -> None:
    bruno = add_user(db, "bruno", Role.BUSINESS_OWNER)
    bianca = add_user(db, "bianca", Role.BUSINESS_OWNER)
    admin = add_user(db, "ada", Role.ADMIN)
    hierarchy = hierarchies.create_hierarchy(db, bruno, HierarchyDraft("rs", "Stores", ("Region", "Store")))
    with pytest.raises(PermissionDenied):
        hierarchies.upsert_node(db, bianca, hierarchy.id, hierarchy.version, "N", "North")
    renamed = hierarchies.update_hierarchy(
        db,
        admin,
        hierarchy.id,
        hierarchy.version,
        HierarchyDraft("rs", "Regions and stores", ("Region", "Store")),
    )
    assert renamed.name == "Regions and stores"
    with pytest.raises(InvalidInput):  # an admin is no owner: a new hierarchy names one
        hierarchies.create_hierarchy(db, admin, HierarchyDraft("cat", "Categories", ("Category",)))
    owned = hierarchies.create_hierarchy(
        db, admin, HierarchyDraft("cat", "Categories", ("Category",), owner_id=bruno.id)
    )
    assert owned.owner_id == bruno.id
