"""系统管理 (administrator only): accounts (add, reset a password, remove) and the audit log."""
from __future__ import annotations

import streamlit as st

from store import audit
from store.auth import (
    ADMIN,
    DISTRICT,
    MIN_PASSWORD,
    ROLE_LABELS,
    TOWNSHIP,
    AccountError,
    add_user,
    remove_user,
    set_password,
    user_list,
)
from ui import auth, data
from ui.format import download_button

NOT_SET = "（不指定）"
ALL = "（全部）"
ACCOUNT_LABELS = {"name": "账号", "role": "角色", "district": "区", "township": "街乡镇", "created_at": "创建时间"}
ACTIONS = (audit.LOGIN, audit.LOGIN_FAILED, audit.LOGIN_LOCKED, audit.LOGOUT, audit.UPLOAD, audit.SCHEME_ADDED,
           audit.PUBLISHED, audit.EXPORTED, audit.DOWNLOADED, audit.ACCOUNT_ADDED, audit.ACCOUNT_REMOVED, audit.PASSWORD_RESET)

access = auth.require((ADMIN,))
st.title("系统管理")
engine = data.engine()


def new_account() -> None:
    """Role, area (a viewer's district / township from the city's list) and an initial password."""
    columns = st.columns(4)
    name = columns[0].text_input("账号名称", key="admin-new-name")
    role = columns[1].selectbox("角色", list(ROLE_LABELS), format_func=ROLE_LABELS.get, key="admin-new-role")
    districts, townships = data.populations(data.version())
    district = columns[2].selectbox("区（区级、街乡镇查看）", [NOT_SET, *districts["name"]], key="admin-new-district",
                                    disabled=role not in (DISTRICT, TOWNSHIP))
    here = townships.loc[townships["district"] == district, "name"].tolist()
    township = columns[3].selectbox("街乡镇（街乡镇查看）", [NOT_SET, *here], key="admin-new-township",
                                    disabled=role != TOWNSHIP)
    password = st.text_input(f"初始密码（至少 {MIN_PASSWORD} 个字符）", type="password", key="admin-new-password")
    if st.button("新建账号", type="primary"):
        try:
            created = add_user(engine, name, role, password,
                               None if district == NOT_SET or role not in (DISTRICT, TOWNSHIP) else district,
                               None if township == NOT_SET or role != TOWNSHIP else township, by=access.user)
        except AccountError as refused:
            st.error(str(refused))
        else:
            st.success(f"已新建账号「{created.user}」（{ROLE_LABELS[created.role]}，可查看 {created.area}）。")


def change_account(names: list[str]) -> None:
    """Reset a password or remove an account (not one's own: the last administrator cannot lock all out)."""
    left, right = st.columns(2)
    with left:
        chosen = st.selectbox("重设密码的账号", names, key="admin-reset-name")
        password = st.text_input("新密码", type="password", key="admin-reset-password")
        if st.button("重设密码"):
            try:
                set_password(engine, chosen, password, by=access.user)
            except AccountError as refused:
                st.error(str(refused))
            else:
                st.success(f"已重设「{chosen}」的密码。")
    with right:
        others = [n for n in names if n != access.user]
        chosen = st.selectbox("删除账号", others, key="admin-remove-name")
        if others and st.button("删除账号"):
            remove_user(engine, chosen, by=access.user)
            st.rerun()


st.subheader("账号")
accounts = user_list(engine)
if accounts.empty:
    st.info("尚无账号：看板处于本机单用户模式。新建第一个账号后，看板即要求登录，请先为自己建一个管理员账号。")
else:
    shown = accounts.assign(role=accounts["role"].map(ROLE_LABELS)).fillna("").rename(columns=ACCOUNT_LABELS)
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption("密码以 argon2id 哈希保存，无法查看；同一账号连续 5 次密码错误暂停登录 15 分钟。")
new_account()
if not accounts.empty:
    change_account(accounts["name"].tolist())

st.subheader("审计日志")
left, right = st.columns(2)
action = left.selectbox("操作", [ALL, *ACTIONS], key="admin-audit-action")
user = right.text_input("账号（留空为全部）", key="admin-audit-user").strip()
log = audit.audit_entries(engine, None if action == ALL else action, user or None).rename(columns=audit.COLUMN_LABELS)
if log.empty:
    st.info("没有符合条件的记录。")
else:
    st.dataframe(log, hide_index=True, width="stretch")
    st.caption(f"最新的在前，共 {len(log)} 条（至多 5000 条）。记录登录、登录失败、上传、新建方案、发布排名、导出报告、下载表格和账号变更。")
    download_button(log, "审计日志.csv", "下载审计日志（CSV）")
