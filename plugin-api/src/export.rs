//! The `export_plugin!` macro: the one line that turns a crate into a fink plugin.

/// Exports the plugin's root module.
///
/// ```
/// fink_plugin_api::export_plugin! {
///     name: "say-hello",
///     description: "Greets you when fink starts and says goodbye when it ends",
///     register: register,
/// }
///
/// fn register(_plugin: &mut fink_plugin_api::Registration) -> fink_plugin_api::Result<()> {
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// The version comes from the plugin's `Cargo.toml` and the API version from this crate, so neither
/// can be wrong.
#[macro_export]
macro_rules! export_plugin {
    (name: $name:expr, description: $description:expr, register: $register:path $(,)?) => {
        // The symbol abi_stable 0.11 looks up (its `ROOT_MODULE_LOADER_NAME`); written out here so
        // plugin crates need no direct dependency on abi_stable.
        #[doc(hidden)]
        #[no_mangle]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::__private::LibHeader = {
            extern "C" fn __fink_info() -> $crate::abi::PluginInfo {
                $crate::__private::plugin_info($name, env!("CARGO_PKG_VERSION"), $description)
            }
            extern "C" fn __fink_register(
                host: $crate::abi::HostBox,
                registrar: $crate::abi::RegistrarMut<'_>,
            ) -> $crate::__private::RResult<(), $crate::abi::PluginError> {
                $crate::__private::run_register(host, registrar, $name, module_path!(), $register)
            }
            fn __fink_root_module() -> $crate::abi::PluginModRef {
                use $crate::__private::PrefixTypeTrait;
                $crate::abi::PluginMod { info: __fink_info, register: __fink_register }.leak_into_prefix()
            }
            extern "C" fn __fink_load() -> $crate::__private::RootModuleResult {
                $crate::__private::__call_root_module_loader(__fink_root_module)
            }
            // SAFETY: the constructor returns the `PluginModRef` the header is typed with.
            unsafe {
                $crate::__private::LibHeader::from_constructor::<$crate::abi::PluginModRef>(
                    __fink_load,
                    $crate::__private::CheckTypeLayout::Yes,
                )
            }
        };
    };
}
