//! The validated settings of a receiver type added as a plug-in: [`crate::ReceiverKind::Plugin`]
//! holds them without naming their type, and the notifier's file for that type takes them back
//! with [`Plugin::get`].

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

/// PluginSettings of one receiver type, defined in that type's file.
pub trait PluginSettings: Debug + PartialEq + Send + Sync + 'static {
    /// The `type` they are for (`"opsgenie"`).
    const TYPE: &'static str;
}

/// [`PluginSettings`] with the type erased.
trait Erased: Debug + Send + Sync {
    fn type_name(&self) -> &'static str;
    fn as_any(&self) -> &dyn Any;
    fn same(&self, other: &dyn Erased) -> bool;
}

impl<T: PluginSettings> Erased for T {
    fn type_name(&self) -> &'static str {
        T::TYPE
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn same(&self, other: &dyn Erased) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

/// The settings of a plug-in receiver type.
#[derive(Debug, Clone)]
pub struct Plugin(Arc<dyn Erased>);

impl Plugin {
    /// Wraps a type's settings.
    pub fn new<T: PluginSettings>(settings: T) -> Plugin {
        Plugin(Arc::new(settings))
    }

    /// The receiver `type`.
    pub fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    /// The settings, if they are a `T`.
    pub fn get<T: PluginSettings>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref::<T>()
    }
}

impl PartialEq for Plugin {
    fn eq(&self, other: &Plugin) -> bool {
        self.0.same(other.0.as_ref())
    }
}
